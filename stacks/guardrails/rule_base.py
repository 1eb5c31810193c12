"""What every SageMaker rule is made of: the rule type, its result convention, shared helpers.

Each rule takes the resource type and its *synthesized* properties (CloudFormation casing,
intrinsics left as ``{"Ref": ...}`` dicts) and returns:

* ``NOT_APPLICABLE`` — another resource type (or nothing to check);
* ``[]`` — compliant;
* a list of findings — one short location per problem (``"Preprocess.VolumeKmsKeyId"``).

A few rules follow references to other resources of the same stack (an endpoint's rollback
alarms); they also receive the stack template's ``Resources``.

How unresolvable values are treated (one policy for every rule):

* *presence* checks (a KMS key is set) accept any non-empty value, intrinsics included: a
  ``Ref``/``GetAtt``/pipeline parameter to a key is exactly what we want, and which key it is
  cannot be known before deploy;
* *value* checks (``VpcOnly``, ``true``, a count >= 2) need a literal. An intrinsic or pipeline
  parameter "cannot be verified" and is a finding, so a token can never bypass a rule silently;
  a reviewer who accepts it acknowledges it with a reason like any other finding. A property left
  out counts as its documented CloudFormation default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

NOT_APPLICABLE: Final = None
Result = list[str] | None
Props = Mapping[str, Any]
#: A stack template's ``Resources``: logical ID -> ``{"Type": ..., "Properties": ...}``.
Resources = Mapping[str, Any]
Check = Callable[[str, Props], Result]
StackCheck = Callable[[str, Props, Resources], Result]


@dataclass(frozen=True, kw_only=True)
class SageMakerRule:
    """One rule: its id suffix, the explanation shown on a finding, and its check.

    Exactly one of ``check`` (the resource alone) and ``stack_check`` (the resource and the other
    resources of its stack) is set.
    """

    rule_id: str
    info: str
    explanation: str
    check: Check | None = None
    stack_check: StackCheck | None = None

    def __post_init__(self) -> None:
        if (self.check is None) == (self.stack_check is None):
            raise ValueError(f"rule {self.rule_id}: set exactly one of check and stack_check")

    def apply(self, resource_type: str, props: Props, resources: Resources) -> Result:
        """The rule's result for one resource (``resources``: the rest of its stack)."""
        if self.check is not None:
            return self.check(resource_type, props)
        assert self.stack_check is not None  # __post_init__
        return self.stack_check(resource_type, props, resources)


def present(value: Any) -> bool:
    """True for any non-empty value, intrinsics included."""
    return value not in (None, "", [], {})


def literal(value: Any, expected: Any) -> bool:
    """True only for the literal ``expected`` (case-insensitive for strings); intrinsics fail."""
    if isinstance(expected, str):
        return isinstance(value, str) and value.lower() == expected.lower()
    if isinstance(expected, bool):
        return value is expected or (isinstance(value, str) and value.lower() == str(expected).lower())
    return bool(value == expected)


def path(props: Any, *keys: str) -> Any:
    """``props[k1][k2]...``, or None where a level is missing or not a mapping."""
    for key in keys:
        if not isinstance(props, Mapping):
            return None
        props = props.get(key)
    return props
