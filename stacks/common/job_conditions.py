"""IAM conditions that hold every SageMaker job and ad-hoc model to the project's boundary.

One place for the condition blocks that the persona roles, the training pipeline's role and the
drift-check role put on ``CreateTrainingJob`` / ``CreateProcessingJob`` (and the ML engineer's
sandbox ``CreateModel`` / ``CreateEndpointConfig``): the project's subnets and security group,
the data key for volumes and outputs, inter-container encryption, network isolation where the job
allows it, and the configured instance types.

Keys and the actions that carry them: AWS Service Authorization Reference, "Actions, resources,
and condition keys for Amazon SageMaker"
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html).
Multi-valued keys (subnets, security groups, instance types) use ``ForAllValues``, which is *true*
when the key is absent, so each is paired with ``Null: false`` (deny-if-absent, as AWS's
"multivalued context keys" page advises); ``Bool`` and ``StringEquals`` are false on a missing key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class JobBoundary:
    """Where jobs may run and with what: values (tokens allowed), not names."""

    subnet_ids: Sequence[str]
    security_group_id: str
    key_arn: str
    instance_types: Sequence[str]


def job_conditions(boundary: JobBoundary, *, network_isolation: bool) -> dict[str, Any]:
    """Conditions for ``CreateTrainingJob`` / ``CreateProcessingJob``.

    Args:
        boundary: the project's subnets, security group, data key and allowed instance types.
        network_isolation: also require ``sagemaker:NetworkIsolation`` true.

    Returns:
        A condition block for :class:`aws_cdk.aws_iam.PolicyStatement`.
    """
    flags = {"sagemaker:InterContainerTrafficEncryption": "true"}
    if network_isolation:
        flags["sagemaker:NetworkIsolation"] = "true"
    return {
        **_in_vpc(boundary),
        "StringEquals": {
            "sagemaker:VolumeKmsKey": boundary.key_arn,
            "sagemaker:OutputKmsKey": boundary.key_arn,
        },
        "Bool": flags,
    }


def model_conditions(boundary: JobBoundary) -> dict[str, Any]:
    """Conditions for an ad-hoc ``CreateModel``: in the project's VPC, network-isolated."""
    conditions = _in_vpc(boundary, instance_types=False)
    conditions["Bool"] = {"sagemaker:NetworkIsolation": "true"}
    return conditions


def endpoint_config_conditions(boundary: JobBoundary) -> dict[str, Any]:
    """Conditions for an ad-hoc ``CreateEndpointConfig``: data key on volumes, allowed instances."""
    return {
        "Null": {"sagemaker:VolumeKmsKey": "false", "sagemaker:InstanceTypes": "false"},
        "StringEquals": {"sagemaker:VolumeKmsKey": boundary.key_arn},
        "ForAllValues:StringEquals": {"sagemaker:InstanceTypes": list(boundary.instance_types)},
    }


def _in_vpc(boundary: JobBoundary, *, instance_types: bool = True) -> dict[str, Any]:
    present = {"sagemaker:VpcSubnets": "false", "sagemaker:VpcSecurityGroupIds": "false"}
    allowed: dict[str, list[str]] = {
        "sagemaker:VpcSubnets": list(boundary.subnet_ids),
        "sagemaker:VpcSecurityGroupIds": [boundary.security_group_id],
    }
    if instance_types:
        present["sagemaker:InstanceTypes"] = "false"
        allowed["sagemaker:InstanceTypes"] = list(boundary.instance_types)
    return {"Null": present, "ForAllValues:StringEquals": allowed}
