"""A small IAM policy evaluator for tests: one request against identity and resource policies.

Why our own: no maintained Python evaluator with condition support was found on PyPI. moto's
``moto.iam.access_control`` knows only ``StringEquals`` and *ignores* every other operator
(``ForAllValues``, ``Null``, ``Bool``, ``ArnLike``...), which would pass every attack case;
``principalmapper`` (last release January 2022) simulates against a live account graph it
gathers with boto3. The maintained simulators are JavaScript (``@cloud-copilot/iam-simulate``).

What it implements (AWS IAM User Guide, each rule tested in ``test_policy_eval.py``):

* Statements: ``Effect`` Allow/Deny; ``Action``/``NotAction`` with ``*``/``?`` wildcards,
  case-insensitive; ``Resource``/``NotResource`` with wildcards (``*`` spans ``/`` and ``:``) and
  policy variables (``${aws:userid}``, ``${sagemaker:UserProfileName}``, ``${*}``/``${?}``/``${$}``)
  substituted from the request context; ``Principal``/``NotPrincipal`` in resource policies.
* Conditions: all operators AND, all keys AND, a key's values OR (NOR for negated operators);
  ``String*``, ``StringLike``, ``Arn*`` (six colon-separated parts matched one by one), ``Bool``,
  ``Numeric*``, ``IpAddress``, ``Null``; the ``...IfExists`` suffix; ``ForAllValues:`` (true when
  the key is absent or empty) and ``ForAnyValue:`` (false when absent). A missing key makes a
  positive operator false and a negated one true. Unknown operators raise: a test must never
  pass because a condition was skipped.
* Decision for a principal and a resource in the same account (:func:`authorize`): any explicit
  Deny in any policy wins; every VPC endpoint policy on the path must allow; then the request is
  allowed if an identity policy allows it or a resource policy allows the principal itself. A KMS
  key is the exception: its key policy must allow, directly or by allowing the account (the
  "Enable IAM policies" root statement), in which case an identity policy must allow too.
  Across accounts both sides must allow (the resource policy naming the principal or its account).

Not modelled (not used by this project): permissions boundaries, SCPs/RCPs, session policies,
ACLs, grants, ``Date*``/``Binary*`` operators, assumed-role session ARNs as principals.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Value = str | bool | int | float | Sequence[str] | None


@dataclass(frozen=True)
class Principal:
    """Who makes the request: an IAM role (by ARN) or an AWS service principal."""

    arn: str
    account: str | None = None
    service: bool = False

    @classmethod
    def role(cls, arn: str) -> Principal:
        """The role ``arn:aws:iam::<account>:role/<name>`` (its sessions act as the role)."""
        return cls(arn=arn, account=arn.split(":")[4])

    @classmethod
    def aws_service(cls, name: str) -> Principal:
        """A service principal such as ``events.amazonaws.com``."""
        return cls(arn=name, service=True)


@dataclass(frozen=True)
class Request:
    """One authorization request: principal, action, resource ARN and request context.

    ``context`` holds the request's context keys (names are case-insensitive). The principal
    keys ``aws:PrincipalArn``, ``aws:PrincipalAccount`` and ``aws:PrincipalServiceName`` are
    added from ``principal`` unless given.
    """

    principal: Principal
    action: str
    resource: str
    context: Mapping[str, Value] = field(default_factory=dict)
    #: Account owning ``resource`` (S3 ARNs carry none); defaults to the ARN's account field.
    resource_account: str | None = None

    def keys(self) -> dict[str, Value]:
        """The full context, key names lower-cased."""
        implied: dict[str, Value] = {}
        if self.principal.service:
            implied["aws:principalservicename"] = self.principal.arn
        else:
            implied["aws:principalarn"] = self.principal.arn
            implied["aws:principalaccount"] = self.principal.account
        owner = self.owner()
        if owner:
            implied["aws:resourceaccount"] = owner
            if self.action.lower().startswith("s3:"):  # S3 also sets its own key, the bucket owner
                implied["s3:resourceaccount"] = owner
        implied.update({k.lower(): v for k, v in self.context.items()})
        return implied

    def owner(self) -> str | None:
        parts = self.resource.split(":")
        return self.resource_account or (parts[4] if len(parts) > 5 and parts[4] else None)


@dataclass(frozen=True)
class Policy:
    """A policy document and a name saying where it came from (for failure messages)."""

    name: str
    document: Mapping[str, Any]

    def statements(self) -> list[Mapping[str, Any]]:
        statement = self.document.get("Statement", [])
        return [statement] if isinstance(statement, Mapping) else list(statement)


@dataclass(frozen=True)
class Decision:
    """The outcome and why: the statements that allowed or denied, as ``policy#sid``."""

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


class EvaluationError(ValueError):
    """A policy uses something this evaluator does not model."""


# ----------------------------------------------------------------- matching primitives


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _glob(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_LITERALS = {"*": "*", "?": "?", "$": "$"}


def _substitute(value: str, keys: Mapping[str, Value], *, wildcards: bool) -> str | None:
    """Replace ``${key}`` policy variables; None when one has no single value in the request.

    With ``wildcards``, ``${*}``/``${?}`` become literal characters that no wildcard expands:
    returned as a regex-free marker pair handled by :func:`_match_with_literals`.
    """
    missing = False

    def replace(match: re.Match[str]) -> str:
        nonlocal missing
        name, _, default = match.group(1).partition(",")
        name = name.strip()
        if name in _LITERALS:
            return "\0" + _LITERALS[name] if wildcards else _LITERALS[name]
        value = keys.get(name.lower())
        if value is None or isinstance(value, (list, tuple)):
            if default:
                return default.strip().strip("'")
            missing = True
            return ""
        return _text(value)

    result = _VARIABLE.sub(replace, value)
    return None if missing else result


def _match_with_literals(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    """Glob match where ``\\0x`` is the literal character ``x`` (from ``${*}``, ``${?}``)."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\0":
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        c = pattern[i]
        parts.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch("".join(parts), text, flags) is not None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _arn_like(pattern: str, arn: str) -> bool:
    """ArnLike: each of the six colon-separated parts is matched on its own."""
    want, have = pattern.split(":", 5), arn.split(":", 5)
    if len(want) != 6 or len(have) != 6:
        return False
    return all(_match_with_literals(w, h) for w, h in zip(want, have, strict=True))


def _numeric(op: str, have: Any, want: str) -> bool:
    try:
        a, b = float(have), float(want)
    except (TypeError, ValueError):
        return False
    return {
        "NumericEquals": a == b,
        "NumericNotEquals": a == b,  # negation applied by the caller
        "NumericLessThan": a < b,
        "NumericLessThanEquals": a <= b,
        "NumericGreaterThan": a > b,
        "NumericGreaterThanEquals": a >= b,
    }[op]


def _ip(have: Any, want: str) -> bool:
    try:
        return ipaddress.ip_address(str(have)) in ipaddress.ip_network(want, strict=False)
    except ValueError:
        return False


#: Operator -> (match one request value against one policy value, negated?)
_OPERATORS: dict[str, tuple[Any, bool]] = {
    "StringEquals": (lambda h, w: _text(h) == w.replace("\0", ""), False),
    "StringNotEquals": (lambda h, w: _text(h) == w.replace("\0", ""), True),
    "StringEqualsIgnoreCase": (lambda h, w: _text(h).lower() == w.replace("\0", "").lower(), False),
    "StringNotEqualsIgnoreCase": (lambda h, w: _text(h).lower() == w.replace("\0", "").lower(), True),
    "StringLike": (lambda h, w: _match_with_literals(w, _text(h)), False),
    "StringNotLike": (lambda h, w: _match_with_literals(w, _text(h)), True),
    "ArnEquals": (lambda h, w: _arn_like(w, _text(h)), False),
    "ArnLike": (lambda h, w: _arn_like(w, _text(h)), False),
    "ArnNotEquals": (lambda h, w: _arn_like(w, _text(h)), True),
    "ArnNotLike": (lambda h, w: _arn_like(w, _text(h)), True),
    "Bool": (lambda h, w: _text(h).lower() == w.replace("\0", "").lower(), False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    **{
        op: ((lambda h, w, op=op: _numeric(op, h, w)), op == "NumericNotEquals")
        for op in (
            "NumericEquals",
            "NumericNotEquals",
            "NumericLessThan",
            "NumericLessThanEquals",
            "NumericGreaterThan",
            "NumericGreaterThanEquals",
        )
    },
}


def _absent(value: Value) -> bool:
    return value is None or (isinstance(value, (list, tuple)) and len(value) == 0)


def condition_holds(operator: str, key: str, policy_values: Any, keys: Mapping[str, Value]) -> bool:
    """Evaluate one ``operator: {key: values}`` entry of a Condition block."""
    have = keys.get(key.lower())
    if operator == "Null":
        (want,) = {_text(v).lower() for v in _as_list(policy_values)}
        return _absent(have) == (want == "true")
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    name = name.removesuffix("IfExists")
    if name not in _OPERATORS:
        raise EvaluationError(f"condition operator {operator!r} is not modelled")
    if qualifier not in ("", "ForAllValues", "ForAnyValue"):
        raise EvaluationError(f"set operator {qualifier!r} is not modelled")
    match_one, negated = _OPERATORS[name]
    wildcards = name in ("StringLike", "StringNotLike", "ArnLike", "ArnNotLike", "ArnEquals", "ArnNotEquals")
    wanted = [_substitute(_text(v), keys, wildcards=wildcards) for v in _as_list(policy_values)]

    def value_matches(value: Any) -> bool:
        hit = any(w is not None and match_one(value, w) for w in wanted)
        return not hit if negated else hit  # negated operators: NOR over the policy values

    if _absent(have):
        if qualifier == "ForAllValues" or if_exists:
            return True
        if qualifier == "ForAnyValue":
            return False
        return negated
    values = _as_list(have)
    if qualifier == "ForAllValues":
        return all(value_matches(v) for v in values)
    # ForAnyValue, or a plain operator (a multivalued key then matches if any value does)
    return any(value_matches(v) for v in values)


def conditions_hold(block: Mapping[str, Mapping[str, Any]] | None, keys: Mapping[str, Value]) -> bool:
    """All operators and all keys of a Condition block hold (logical AND)."""
    return all(
        condition_holds(operator, key, values, keys)
        for operator, entries in (block or {}).items()
        for key, values in entries.items()
    )


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(_glob(p, action, ignore_case=True) for p in _as_list(statement["NotAction"]))
    return any(_glob(p, action, ignore_case=True) for p in _as_list(statement.get("Action", [])))


def _resource_matches(statement: Mapping[str, Any], resource: str, keys: Mapping[str, Value]) -> bool:
    def hits(patterns: Any) -> bool:
        for pattern in _as_list(patterns):
            resolved = _substitute(str(pattern), keys, wildcards=True)
            if resolved is not None and _match_with_literals(resolved, resource):
                return True
        return False

    if "NotResource" in statement:
        return not hits(statement["NotResource"])
    if "Resource" not in statement:  # trust policies and some resource policies imply it
        return True
    return hits(statement["Resource"])


def _principal_entries(element: Any) -> list[tuple[str, str]]:
    if element == "*":
        return [("AWS", "*")]
    return [(kind, str(v)) for kind, values in element.items() for v in _as_list(values)]


def principal_match(element: Any, principal: Principal) -> str | None:
    """How a Principal element names ``principal``: ``"direct"``, ``"account"`` or None.

    ``"account"`` (the account ID or ``arn:aws:iam::<id>:root``) delegates to that account's
    identity policies rather than granting the principal anything by itself.
    """
    best: str | None = None
    for kind, value in _principal_entries(element):
        if kind == "Service" and principal.service and value == principal.arn:
            return "direct"
        if kind != "AWS" or principal.service:
            continue
        if value == "*" or value == principal.arn:
            return "direct"
        if principal.account and value in (principal.account, f"arn:aws:iam::{principal.account}:root"):
            best = "account"
    return best


# ----------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Hit:
    """A statement that applies to the request."""

    policy: str
    sid: str
    effect: str
    via: str  # "identity", "direct" or "account"

    def __str__(self) -> str:
        return f"{self.effect} {self.policy}#{self.sid}"


def matching_statements(policy: Policy, request: Request, *, resource_policy: bool) -> list[Hit]:
    """The statements of ``policy`` that apply to ``request``."""
    keys = request.keys()
    hits: list[Hit] = []
    for index, statement in enumerate(policy.statements()):
        if not _action_matches(statement, request.action):
            continue
        if not _resource_matches(statement, request.resource, keys):
            continue
        via = "identity"
        if resource_policy:
            if "NotPrincipal" in statement:
                via = (
                    "direct" if principal_match(statement["NotPrincipal"], request.principal) is None else ""
                )
            else:
                via = principal_match(statement.get("Principal", {}), request.principal) or ""
            if not via:
                continue
        if not conditions_hold(statement.get("Condition"), keys):
            continue
        sid = str(statement.get("Sid") or f"[{index}]")
        hits.append(Hit(policy=policy.name, sid=sid, effect=str(statement["Effect"]), via=via))
    return hits


def endpoint_decision(request: Request, endpoints: Sequence[Policy]) -> Decision:
    """Whether the VPC endpoint policies on the path let ``request`` through (each must allow,
    none may deny); the principal's and the resource's own policies are not consulted."""
    hits = [h for p in endpoints for h in matching_statements(p, request, resource_policy=True)]
    denies = [h for h in hits if h.effect == "Deny"]
    if denies:
        return Decision(False, "explicit deny: " + ", ".join(map(str, denies)))
    for policy in endpoints:
        if not any(h.policy == policy.name and h.effect == "Allow" for h in hits):
            return Decision(False, f"VPC endpoint policy {policy.name} does not allow it")
    return Decision(True, "every endpoint policy on the path allows it")


def authorize(
    request: Request,
    *,
    identity: Sequence[Policy] = (),
    resource: Sequence[Policy] = (),
    key_policy: Policy | None = None,
    endpoints: Sequence[Policy] = (),
) -> Decision:
    """Decide ``request`` as AWS does for the policies given; see the module docstring.

    Args:
        identity: the principal's identity-based policies (none for a service principal).
        resource: resource-based policies (bucket, topic, queue, role trust policy).
        key_policy: the KMS key policy when the resource is a KMS key.
        endpoints: VPC endpoint policies on the request's network path.
    """
    identity_hits = [h for p in identity for h in matching_statements(p, request, resource_policy=False)]
    resource_hits = [
        h
        for p in (*resource, *([key_policy] if key_policy else []))
        for h in matching_statements(p, request, resource_policy=True)
    ]
    denies = [h for h in (*identity_hits, *resource_hits) if h.effect == "Deny"]
    if denies:
        return Decision(False, "explicit deny: " + ", ".join(map(str, denies)))
    path = endpoint_decision(request, endpoints)
    if not path:
        return path
    identity_allows = [h for h in identity_hits if h.effect == "Allow"]
    direct = [h for h in resource_hits if h.effect == "Allow" and h.via == "direct"]
    delegated = [h for h in resource_hits if h.effect == "Allow" and h.via == "account"]
    if key_policy is not None:
        if direct:
            return Decision(True, "key policy allows: " + ", ".join(map(str, direct)))
        if delegated and identity_allows:
            return Decision(
                True, "key policy delegates to IAM, allowed by " + ", ".join(map(str, identity_allows))
            )
        return Decision(
            False, "the key policy does not allow it" + ("" if delegated else " (nor delegates to IAM)")
        )
    owner = request.owner()
    if request.principal.account and owner and owner != request.principal.account:
        # The resource policy may name the principal or its account (which then delegates to it).
        ok = bool(identity_allows) and bool(direct or delegated)
        return Decision(
            ok, f"cross-account: identity {bool(identity_allows)}, resource {bool(direct or delegated)}"
        )
    if identity_allows or direct:
        return Decision(True, "allowed by " + ", ".join(map(str, (*identity_allows, *direct))))
    return Decision(False, "implicit deny: no statement allows it")
