"""cdk-nag acknowledgements for the pipeline execution role, each with a reviewer-grade reason.

cdk-nag names a wildcard finding by the rendered resource, e.g.
``AwsSolutions-IAM5[Resource::<ArtifactBucket.Arn>/data/*]``; a bucket from another stack renders
as the cross-stack reference CDK will create (``Fn::GetStackOutput`` of a ``Publish/Output...``
output for weak references, this app's setting). The IDs are computed here, at construction
time, so every acknowledgement names exactly one wildcard and a new wildcard stays a finding;
the whole-app guardrail synth fails if a rendering ever drifts.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from stacks.common.nag import acknowledge

_IAM5 = "AwsSolutions-IAM5"
_ACCOUNT_ARN = "arn:<AWS::Partition>:{service}:<AWS::Region>:<AWS::AccountId>:{resource}"
_WEAK_REFERENCES = "@aws-cdk/core:defaultCrossStackReferences"
_JOB_NAMES = (
    "SageMaker Pipelines names each job pipelines-<execution>-<step>-<hash> at run time; the prefix "
    "is as narrow as the service allows."
)

#: Fixed wildcard resources of the role -> why each is needed.
FIXED_WILDCARDS: dict[str, str] = {
    "*": (
        "Only for actions without resource-level permissions: sagemaker:ListModelPackages (champion "
        "lookup), ecr:GetAuthorizationToken, ec2:Describe* for job ENIs, and cloudwatch:PutMetricData "
        "(limited by a namespace condition to /aws/sagemaker/*)."
    ),
    _ACCOUNT_ARN.format(service="sagemaker", resource="processing-job/pipelines-*"): _JOB_NAMES,
    _ACCOUNT_ARN.format(service="sagemaker", resource="training-job/pipelines-*"): _JOB_NAMES,
    _ACCOUNT_ARN.format(service="logs", resource="log-group:/aws/sagemaker/*"): (
        "SageMaker jobs write to /aws/sagemaker/ProcessingJobs and /aws/sagemaker/TrainingJobs with "
        "one stream per job; scoped to SageMaker's log groups."
    ),
    _ACCOUNT_ARN.format(service="ec2", resource="network-interface/*"): (
        "SageMaker creates and deletes one ENI per job in the project subnets; ENI IDs are unknown in "
        "advance, creation is limited to the project subnets and security group and "
        "permission/deletion to the project VPC (ec2:Vpc condition)."
    ),
}


def render(value: Any) -> str:
    """Render a resolved same-stack CloudFormation value the way cdk-nag prints it.

    Raises:
        ValueError: an intrinsic this renderer does not know.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Fn::Join":
            return str(arg[0]).join(render(part) for part in arg[1])
    raise ValueError(f"cannot render {value!r} as a cdk-nag resource name")


def _unique_id(components: list[str]) -> str:
    """CDK's ``makeUniqueId`` (logical IDs of generated constructs such as cross-stack outputs)."""
    components = [c for c in components if c != "Default"]
    digest = hashlib.md5("/".join(components).encode(), usedforsecurity=False).hexdigest()[:8].upper()
    human: list[str] = []
    for component in components:
        if not human or not human[-1].endswith(component):
            human.append(component)
    return "".join(re.sub(r"[^A-Za-z0-9]", "", c) for c in human if c != "Resource")[:240] + digest


def reference(consumer: IConstruct, token: str, producer: cdk.Stack) -> str:
    """How cdk-nag renders ``token`` (an attribute of a resource in ``producer``) in ``consumer``'s stack.

    Raises:
        ValueError: a strong (export/import) cross-stack reference, which this app does not use.
    """
    stack = cdk.Stack.of(consumer)
    resolved = producer.resolve(token)
    if producer is stack:
        return render(resolved)
    if stack.node.try_get_context(_WEAK_REFERENCES) != "weak":
        raise ValueError(f"only weak cross-stack references are rendered; set {_WEAK_REFERENCES} to weak")
    output = _unique_id(["Publish", "Output" + json.dumps(resolved, separators=(",", ":"))])
    region = stack.resolve(producer.region)
    weak = {"Fn::GetStackOutput": {"StackName": producer.stack_name, "Region": region, "OutputName": output}}
    return json.dumps(weak, separators=(",", ":"))


def acknowledge_role_wildcards(
    policy: IConstruct, *, bucket: s3.IBucket, bucket_prefixes: dict[str, str], group_name: str
) -> None:
    """Acknowledge every deliberate wildcard of the execution role's ``policy`` (and nothing else).

    Raises:
        ValueError: ``group_name`` is a token (its rendering would not be known).
    """
    if cdk.Token.is_unresolved(group_name):
        raise ValueError("the model package group name must be a literal to scope the role")
    for resource, reason in FIXED_WILDCARDS.items():
        acknowledge(policy, f"{_IAM5}[Resource::{resource}]", reason)
    bucket_arn = reference(policy, bucket.bucket_arn, cdk.Stack.of(bucket))
    for prefix, reason in bucket_prefixes.items():
        acknowledge(policy, f"{_IAM5}[Resource::{bucket_arn}/{prefix}*]", reason)
    versions = _ACCOUNT_ARN.format(service="sagemaker", resource=f"model-package/{group_name}/*")
    acknowledge(
        policy,
        f"{_IAM5}[Resource::{versions}]",
        "Versions are named <group>/<n> at registration; limited to this project's model package group.",
    )
