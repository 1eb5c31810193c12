"""Which request-context keys SageMaker sets for a job request, and their values for a request.

The keys each action carries are from the Service Authorization Reference, "Actions, resources,
and condition keys for Amazon SageMaker"
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html),
restricted to the ones this project's policies use. Multivalued keys (``ArrayOfString``) are lists.
A request field that is absent leaves its key absent from the context (so ``Null`` and
``ForAllValues`` see a missing key, not an empty value).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

#: Action -> condition keys of the Service Authorization Reference this project relies on.
CONDITION_KEYS: Final[Mapping[str, tuple[str, ...]]] = {
    "sagemaker:CreateTrainingJob": (
        "sagemaker:InstanceTypes",
        "sagemaker:InterContainerTrafficEncryption",
        "sagemaker:MaxRuntimeInSeconds",
        "sagemaker:NetworkIsolation",
        "sagemaker:OutputKmsKey",
        "sagemaker:VolumeKmsKey",
        "sagemaker:VpcSecurityGroupIds",
        "sagemaker:VpcSubnets",
    ),
    "sagemaker:CreateProcessingJob": (
        "sagemaker:InstanceTypes",
        "sagemaker:InterContainerTrafficEncryption",
        "sagemaker:MaxRuntimeInSeconds",
        "sagemaker:NetworkIsolation",
        "sagemaker:OutputKmsKey",
        "sagemaker:VolumeKmsKey",
        "sagemaker:VpcSecurityGroupIds",
        "sagemaker:VpcSubnets",
    ),
    "sagemaker:CreateModel": (
        "sagemaker:NetworkIsolation",
        "sagemaker:VpcSecurityGroupIds",
        "sagemaker:VpcSubnets",
    ),
    # The reference also lists sagemaker:ModelArn (the model the job runs); no policy here uses it.
    "sagemaker:CreateTransformJob": (
        "sagemaker:InstanceTypes",
        "sagemaker:OutputKmsKey",
        "sagemaker:VolumeKmsKey",
    ),
    "sagemaker:CreateEndpointConfig": ("sagemaker:InstanceTypes", "sagemaker:VolumeKmsKey"),
    "sagemaker:CreateModelPackage": ("sagemaker:ModelApprovalStatus",),
    "sagemaker:UpdateModelPackage": ("sagemaker:ModelApprovalStatus",),
    "sagemaker:CreateSpace": ("sagemaker:OwnerUserProfileArn", "sagemaker:SpaceSharingType"),
    "sagemaker:UpdateSpace": ("sagemaker:OwnerUserProfileArn", "sagemaker:SpaceSharingType"),
    "sagemaker:DeleteSpace": ("sagemaker:OwnerUserProfileArn", "sagemaker:SpaceSharingType"),
    "sagemaker:CreateApp": ("sagemaker:OwnerUserProfileArn", "sagemaker:SpaceSharingType"),
    "sagemaker:DeleteApp": ("sagemaker:OwnerUserProfileArn", "sagemaker:SpaceSharingType"),
}


def _get(request: Mapping[str, Any], *path: str) -> Any:
    node: Any = request
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _put(context: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        context[key] = value


def _context(
    request: Mapping[str, Any],
    *,
    instance_types: list[str],
    network: Mapping[str, Any],
    volume_key: Any,
    output_key: Any,
) -> dict[str, Any]:
    """The keys both job APIs carry, from the pieces each request shape keeps in its own place."""
    context: dict[str, Any] = {}
    _put(context, "sagemaker:InstanceTypes", instance_types or None)
    _put(context, "sagemaker:VpcSubnets", _get(network, "VpcConfig", "Subnets"))
    _put(context, "sagemaker:VpcSecurityGroupIds", _get(network, "VpcConfig", "SecurityGroupIds"))
    _put(context, "sagemaker:VolumeKmsKey", volume_key)
    _put(context, "sagemaker:OutputKmsKey", output_key)
    _put(context, "sagemaker:NetworkIsolation", network.get("EnableNetworkIsolation"))
    _put(
        context,
        "sagemaker:InterContainerTrafficEncryption",
        network.get("EnableInterContainerTrafficEncryption"),
    )
    _put(context, "sagemaker:MaxRuntimeInSeconds", _get(request, "StoppingCondition", "MaxRuntimeInSeconds"))
    return context


def training_job_context(request: Mapping[str, Any]) -> dict[str, Any]:
    """Context keys of a ``CreateTrainingJob`` request (API shape, values already resolved).

    Training keeps its VPC and network flags at the top level of the request.
    """
    resources = request.get("ResourceConfig", {})
    types = [resources.get("InstanceType")] + [
        g.get("InstanceType") for g in resources.get("InstanceGroups", [])
    ]
    return _context(
        request,
        instance_types=[t for t in types if t],
        network=request,
        volume_key=resources.get("VolumeKmsKeyId"),
        output_key=_get(request, "OutputDataConfig", "KmsKeyId"),
    )


def processing_job_context(request: Mapping[str, Any]) -> dict[str, Any]:
    """Context keys of a ``CreateProcessingJob`` request (API shape, values already resolved).

    Processing keeps them under ``NetworkConfig``.
    """
    cluster = _get(request, "ProcessingResources", "ClusterConfig") or {}
    return _context(
        request,
        instance_types=[cluster["InstanceType"]] if cluster.get("InstanceType") else [],
        network=request.get("NetworkConfig", {}),
        volume_key=cluster.get("VolumeKmsKeyId"),
        output_key=_get(request, "ProcessingOutputConfig", "KmsKeyId"),
    )


def transform_job_context(request: Mapping[str, Any]) -> dict[str, Any]:
    """Context keys of a ``CreateTransformJob`` request: its instances and its two keys.

    A Transform job has no VPC or network flags of its own: the model it runs carries them
    (:func:`model_context`).
    """
    resources = request.get("TransformResources", {})
    context: dict[str, Any] = {}
    _put(
        context,
        "sagemaker:InstanceTypes",
        [resources["InstanceType"]] if resources.get("InstanceType") else None,
    )
    _put(context, "sagemaker:VolumeKmsKey", resources.get("VolumeKmsKeyId"))
    _put(context, "sagemaker:OutputKmsKey", _get(request, "TransformOutput", "KmsKeyId"))
    return context


def model_context(request: Mapping[str, Any]) -> dict[str, Any]:
    """Context keys of a ``CreateModel`` request: its VPC and its network isolation."""
    context: dict[str, Any] = {}
    _put(context, "sagemaker:VpcSubnets", _get(request, "VpcConfig", "Subnets"))
    _put(context, "sagemaker:VpcSecurityGroupIds", _get(request, "VpcConfig", "SecurityGroupIds"))
    _put(context, "sagemaker:NetworkIsolation", request.get("EnableNetworkIsolation"))
    return context


JOB_CONTEXT = {
    "sagemaker:CreateTrainingJob": training_job_context,
    "sagemaker:CreateProcessingJob": processing_job_context,
    "sagemaker:CreateTransformJob": transform_job_context,
    "sagemaker:CreateModel": model_context,
}


def job_context(action: str, request: Mapping[str, Any]) -> dict[str, Any]:
    """The context keys ``action`` carries for ``request``; only keys of :data:`CONDITION_KEYS`."""
    context = JOB_CONTEXT[action](request)
    unknown = set(context) - set(CONDITION_KEYS[action])
    assert not unknown, f"{action} does not carry {sorted(unknown)}"
    return context
