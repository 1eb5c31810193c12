"""cdk-nag acknowledgements: one finding, on the narrowest construct, with its reason.

A wildcard finding (``AwsSolutions-IAM5``) is named by the resource as cdk-nag renders it from the
policy: ``<ArtifactBucket.Arn>/data/*`` for a bucket of the same stack, the cross-stack reference
CDK writes (e.g. ``{"Fn::GetStackOutput":{...}}/data/*``) for one of another stack. That rendering
exists only once CDK has resolved cross-stack references, in the app's *prepare* phase.
:func:`acknowledge_resource` therefore names the finding then: it adds a construct validation,
which CDK runs after prepare and before synthesis (the app lifecycle of the CDK guide), and which
resolves the resource in the policy's own stack and records the acknowledgement. Nothing about how
CDK names cross-stack outputs, or which kind of reference it makes, is copied here: the
acknowledgement names exactly what the template says, and a new wildcard stays a finding.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

import aws_cdk as cdk
import jsii
from constructs import IConstruct, IValidation

#: The AwsSolutions rule that reports wildcard actions and resources.
IAM5 = "AwsSolutions-IAM5"


def account_arn(scope: IConstruct, service: str, resource: str) -> str:
    """``Stack.format_arn``'s ARN in ``scope``'s stack, as a cdk-nag finding spells it.

    While the stack's environment is a token, partition, region and account render as
    ``<AWS::Partition>``, ``<AWS::Region>`` and ``<AWS::AccountId>``; when the config pins an
    account and region (``environments.<env>.account`` / ``.region``), ``format_arn`` writes the
    literal values, and so does the finding. (ARNs spelled with ``cdk.Aws.REGION`` and friends
    stay tokens either way: acknowledge those with the pseudo names.)
    """
    stack = cdk.Stack.of(scope)

    def part(value: str, pseudo: str) -> str:
        return f"<AWS::{pseudo}>" if cdk.Token.is_unresolved(value) else value

    partition, region = part(stack.partition, "Partition"), part(stack.region, "Region")
    return f"arn:{partition}:{service}:{region}:{part(stack.account, 'AccountId')}:{resource}"


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one finding (``AwsSolutions-IAM5[Action::s3:List*]``-style id) on ``construct``.

    Acknowledgements apply to the construct and everything below it, so callers pass the
    narrowest construct that carries the finding (a role's policy, not the stack).
    """
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))


def acknowledge_resource(construct: IConstruct, resource: str, reason: str) -> None:
    """Acknowledge the wildcard finding of ``resource`` (a policy resource; tokens allowed) on ``construct``.

    A literal is acknowledged at once; a resource with tokens when CDK validates the app, after it
    has resolved the references (see the module docstring).
    """
    if not cdk.Token.is_unresolved(resource):
        acknowledge(construct, f"{IAM5}[Resource::{flatten(resource)}]", reason)
        return
    construct.node.add_validation(_AcknowledgeWhenResolved(construct, resource, reason))


def flatten(value: Any) -> str:
    """A resolved CloudFormation value as cdk-nag prints it in a finding's id.

    This is cdk-nag's documented suppression format (its ``flattenCfnReference``): ``${x}`` in a
    string reads ``<x>``; ``Ref`` and ``Fn::GetAtt`` read ``<Name>``/``<Name.Attr>``; ``Fn::Join``
    and ``Fn::Sub`` read as their text; ``Fn::ImportValue`` as the export's name; anything else as
    compact JSON.
    """
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict):
        for intrinsic, render in _INTRINSICS.items():  # cdk-nag's order
            if value.get(intrinsic):
                return render(value[intrinsic])
    return "" if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


_INTRINSICS: Final[dict[str, Callable[[Any], str]]] = {
    "Fn::Join": lambda arg: str(arg[0]).join(flatten(item) for item in arg[1]),
    "Fn::Sub": flatten,
    "Fn::GetAtt": lambda arg: f"<{flatten(arg[0])}.{flatten(arg[1])}>",
    "Fn::ImportValue": flatten,
    "Ref": lambda arg: f"<{flatten(arg)}>",
}


@jsii.implements(IValidation)
class _AcknowledgeWhenResolved:
    """Records one resource's acknowledgement when CDK validates the construct tree."""

    def __init__(self, construct: IConstruct, resource: str, reason: str) -> None:
        self._construct = construct
        self._resource = resource
        self._reason = reason
        self._done = False

    def validate(self) -> list[str]:
        if not self._done:  # an app synthesized twice validates twice
            rendered = flatten(cdk.Stack.of(self._construct).resolve(self._resource))
            acknowledge(self._construct, f"{IAM5}[Resource::{rendered}]", self._reason)
            self._done = True
        return []
