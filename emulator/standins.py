"""Deterministic local stand-ins for what CloudFormation would create: names, ARNs, the account.

Offline, a resource's `Ref` is its explicit name when the template gives one, else a name made
from its stack and logical ID, so every run of the same assembly sees the same names.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

#: moto's default account (``moto.core.models.DEFAULT_ACCOUNT_ID``): where fake credentials act,
#: and so where every env-agnostic stack lives offline.
ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"

#: Properties that name a resource explicitly; its `Ref` is then that name.
NAME_PROPERTIES = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::SageMaker::ModelPackageGroup": "ModelPackageGroupName",
    "AWS::SageMaker::Pipeline": "PipelineName",
    "AWS::SageMaker::Model": "ModelName",
    "AWS::SageMaker::EndpointConfig": "EndpointConfigName",
    "AWS::SageMaker::Endpoint": "EndpointName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Events::EventBus": "Name",
}


def standin_name(stack: str, logical_id: str, resource_type: str, properties: Any = None) -> str:
    """The deterministic local name a resource's `Ref` resolves to."""
    explicit = (properties or {}).get(NAME_PROPERTIES.get(resource_type, ""))
    if isinstance(explicit, str):
        return explicit
    slug = re.sub(r"[^a-z0-9-]", "-", f"{stack}-{logical_id}".lower()).strip("-")
    if resource_type == "AWS::S3::Bucket":
        return f"local-{slug}"[:63].rstrip("-")
    if resource_type == "AWS::EC2::Subnet":
        return f"subnet-{_short(slug)}"
    if resource_type == "AWS::EC2::SecurityGroup":
        return f"sg-{_short(slug)}"
    if resource_type == "AWS::EC2::VPC":
        return f"vpc-{_short(slug)}"
    return f"local-{slug}"


#: How an ARN names a resource of a type, after `arn:aws:<service>:<region>:<account>:`.
_ARN_RESOURCE = {
    "AWS::IAM::Role": "role/",
    "AWS::IAM::ManagedPolicy": "policy/",
    "AWS::KMS::Key": "key/",
    "AWS::SageMaker::ModelPackageGroup": "model-package-group/",
    "AWS::SageMaker::Pipeline": "pipeline/",
    "AWS::SageMaker::Domain": "domain/",
    "AWS::Lambda::Function": "function:",
    "AWS::Logs::LogGroup": "log-group:",
    "AWS::Events::EventBus": "event-bus/",
}
#: Services whose ARNs carry no region (IAM, S3) or no account (S3).
_GLOBAL = {"iam": (False, True), "s3": (False, False)}


def standin_arn(resource_type: str, name: str, *, account: str = ACCOUNT) -> str:
    """A plausible ARN for a stand-in resource of `resource_type` named `name`, in `account`."""
    service = resource_type.split("::")[1].lower()
    with_region, with_account = _GLOBAL.get(service, (True, True))
    region, owner = REGION if with_region else "", account if with_account else ""
    return f"arn:{PARTITION}:{service}:{region}:{owner}:{_ARN_RESOURCE.get(resource_type, '')}{name}"


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:17]
