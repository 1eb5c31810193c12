"""cdk-nag acknowledgements for the pipeline execution role, each with a reviewer-grade reason.

Each acknowledgement names exactly one wildcard resource of the role's policy, so a new wildcard
stays a finding. The artifact bucket's prefixes are named as the template renders them
(:func:`stacks.common.nag.acknowledge_resource`), whichever stack the bucket is in.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from stacks.common.nag import IAM5, account_arn, acknowledge, acknowledge_resource

_JOB_NAMES = (
    "SageMaker Pipelines names each job pipelines-<execution>-<step>-<hash> at run time; the prefix "
    "is as narrow as the service allows."
)

#: Fixed wildcard resources of the role (service, resource; None: the bare "*") -> why each is needed.
FIXED_WILDCARDS: dict[tuple[str, str] | None, str] = {
    None: (
        "Only for actions without resource-level permissions: sagemaker:ListModelPackages (champion "
        "lookup), ecr:GetAuthorizationToken, ec2:Describe* for job ENIs, and cloudwatch:PutMetricData "
        "(limited by a namespace condition to /aws/sagemaker/*)."
    ),
    ("sagemaker", "processing-job/pipelines-*"): _JOB_NAMES,
    ("sagemaker", "training-job/pipelines-*"): _JOB_NAMES,
    ("logs", "log-group:/aws/sagemaker/*"): (
        "SageMaker jobs write to /aws/sagemaker/ProcessingJobs and /aws/sagemaker/TrainingJobs with "
        "one stream per job; scoped to SageMaker's log groups."
    ),
    ("ec2", "network-interface/*"): (
        "SageMaker creates and deletes one ENI per job in the project subnets; ENI IDs are unknown in "
        "advance, creation is limited to the project subnets and security group and "
        "permission/deletion to the project VPC (ec2:Vpc condition)."
    ),
}


def acknowledge_role_wildcards(
    policy: IConstruct, *, bucket: s3.IBucket, bucket_prefixes: dict[str, str], group_name: str
) -> None:
    """Acknowledge every deliberate wildcard of the execution role's ``policy`` (and nothing else).

    Raises:
        ValueError: ``group_name`` is a token (its rendering would not be known).
    """
    if cdk.Token.is_unresolved(group_name):
        raise ValueError("the model package group name must be a literal to scope the role")
    for wildcard, reason in FIXED_WILDCARDS.items():
        resource = "*" if wildcard is None else account_arn(policy, *wildcard)
        acknowledge(policy, f"{IAM5}[Resource::{resource}]", reason)
    for prefix, reason in bucket_prefixes.items():
        acknowledge_resource(policy, bucket.arn_for_objects(f"{prefix}*"), reason)
    versions = account_arn(policy, "sagemaker", f"model-package/{group_name}/*")
    acknowledge(
        policy,
        f"{IAM5}[Resource::{versions}]",
        "Versions are named <group>/<n> at registration; limited to this project's model package group.",
    )
