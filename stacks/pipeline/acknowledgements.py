"""cdk-nag acknowledgements for the pipeline execution role, each with a reviewer-grade reason.

cdk-nag names a wildcard finding by the rendered resource, e.g.
``AwsSolutions-IAM5[Resource::<Bucket.Arn>/data/*]``. When the bucket lives in another stack its
ARN renders as an ``Fn::ImportValue`` export name that only exists once CDK has resolved
cross-stack references. So the bucket-prefix acknowledgements are added by a construct
validation, which CDK runs after that resolution and before the policy plugins read the
acknowledgements; everything else is acknowledged up front.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import jsii
from constructs import Construct, IConstruct, IValidation

_IAM5 = "AwsSolutions-IAM5"
_ACCOUNT_ARN = "arn:<AWS::Partition>:{service}:<AWS::Region>:<AWS::AccountId>:{resource}"

#: Fixed wildcard resources of the role -> why each is needed.
FIXED_WILDCARDS: dict[str, str] = {
    "Resource::*": (
        "Only for actions without resource-level permissions: sagemaker:ListModelPackages (champion "
        "lookup), ecr:GetAuthorizationToken, ec2:Describe* for job ENIs, and cloudwatch:PutMetricData "
        "(limited by a namespace condition to /aws/sagemaker/*)."
    ),
    "Resource::" + _ACCOUNT_ARN.format(service="sagemaker", resource="processing-job/pipelines-*"): (
        "SageMaker Pipelines names each job pipelines-<execution>-<step>-<hash> at run time; the prefix "
        "is as narrow as the service allows."
    ),
    "Resource::" + _ACCOUNT_ARN.format(service="sagemaker", resource="training-job/pipelines-*"): (
        "SageMaker Pipelines names each job pipelines-<execution>-<step>-<hash> at run time; the prefix "
        "is as narrow as the service allows."
    ),
    "Resource::" + _ACCOUNT_ARN.format(service="logs", resource="log-group:/aws/sagemaker/*"): (
        "SageMaker jobs write to /aws/sagemaker/ProcessingJobs and /aws/sagemaker/TrainingJobs with "
        "one stream per job; scoped to SageMaker's log groups."
    ),
    "Resource::" + _ACCOUNT_ARN.format(service="ec2", resource="network-interface/*"): (
        "SageMaker creates and deletes one ENI per job in the project subnets; ENI IDs are unknown in "
        "advance, creation is limited to the project subnets and security group and "
        "permission/deletion to the project VPC (ec2:Vpc condition)."
    ),
}


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding (e.g. ``AwsSolutions-IAM5[Action::s3:List*]``) on ``scope``."""
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))


def render(value: Any) -> str:
    """Render a resolved CloudFormation value the way cdk-nag prints it in a finding ID.

    Raises:
        ValueError: an intrinsic this renderer does not know (the nag test would then fail).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Fn::ImportValue" and isinstance(arg, str):
            return arg
        if fn == "Fn::GetStackOutput":  # a weak cross-stack reference: printed as compact JSON
            return json.dumps(value, separators=(",", ":"))
        if fn == "Fn::Join":
            return str(arg[0]).join(render(part) for part in arg[1])
    raise ValueError(f"cannot render {value!r} as a cdk-nag resource name")


@jsii.implements(IValidation)
class _AcknowledgeResolved:
    """Acknowledges wildcard resources once their tokens can be rendered (see module docstring)."""

    def __init__(self, scope: Construct, resources: dict[str, str]) -> None:
        self._scope, self._resources = scope, resources

    def validate(self) -> list[str]:
        stack = cdk.Stack.of(self._scope)
        for resource, reason in self._resources.items():
            acknowledge(self._scope, f"{_IAM5}[Resource::{render(stack.resolve(resource))}]", reason)
        return []


def acknowledge_role_wildcards(policy: Construct, resources: dict[str, str]) -> None:
    """Acknowledge the fixed wildcards plus ``resources`` (ARN, possibly a token -> reason) on ``policy``."""
    for resource, reason in FIXED_WILDCARDS.items():
        acknowledge(policy, f"{_IAM5}[{resource}]", reason)
    policy.node.add_validation(_AcknowledgeResolved(policy, resources))
