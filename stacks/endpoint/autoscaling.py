"""Target-tracking autoscaling of an instance-backed endpoint variant.

Application Auto Scaling keeps ``SageMakerVariantInvocationsPerInstance`` near the configured
target by changing the variant's desired instance count between the stage's min and max.

Operational note (AWS docs, "Update endpoints that use auto scaling"): while the variant is a
registered scalable target, an UpdateEndpoint that changes the *instance type* fails; changing the
model (every normal release) is allowed. To change a stage's instance type:
``aws application-autoscaling deregister-scalable-target --service-namespace sagemaker
--resource-id endpoint/<endpoint>/variant/AllTraffic --scalable-dimension
sagemaker:variant:DesiredInstanceCount``, then deploy the stack (which registers it again).
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from contracts.config import AutoscalingConfig

#: Application Auto Scaling's service-linked role for SageMaker variants. It is what the service
#: uses for SageMaker whatever role is named (and creates it if missing); naming it keeps CDK from
#: adding a role of its own that would carry no permissions and never be used.
SERVICE_LINKED_ROLE = (
    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)


@dataclass(frozen=True, kw_only=True)
class VariantAutoscalingProps:
    """Which variant of which endpoint, and the scaling bounds and target."""

    endpoint: sagemaker.CfnEndpoint
    endpoint_name: str
    variant_name: str
    scaling: AutoscalingConfig


class VariantAutoscaling(Construct):
    """``target`` (the variant's desired instance count) with one target-tracking policy."""

    def __init__(self, scope: Construct, construct_id: str, *, props: VariantAutoscalingProps) -> None:
        super().__init__(scope, construct_id)
        scaling = props.scaling
        self.target = variant_target(
            self, props.endpoint, f"endpoint/{props.endpoint_name}/variant/{props.variant_name}",
            capacity=(scaling.min_capacity, scaling.max_capacity),
        )  # fmt: skip
        self.target.scale_to_track_metric(
            "InvocationsPerInstance",
            target_value=scaling.target_invocations_per_instance,
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            # Scale out fast on a traffic burst; scale in slowly so a dip does not drop capacity.
            scale_in_cooldown=cdk.Duration.minutes(5),
            scale_out_cooldown=cdk.Duration.minutes(1),
        )


def variant_target(
    scope: Construct, endpoint: sagemaker.CfnEndpoint, resource_id: str, *, capacity: tuple[int, int]
) -> appscaling.ScalableTarget:
    """``Target``: a variant's desired instance count between ``capacity`` (min, max), registered with
    the service-linked role, once the endpoint (and so the variant) exists."""
    role_arn = cdk.Stack.of(scope).format_arn(
        service="iam", region="", resource="role", resource_name=SERVICE_LINKED_ROLE
    )
    target = appscaling.ScalableTarget(
        scope,
        "Target",
        service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
        resource_id=resource_id,
        scalable_dimension="sagemaker:variant:DesiredInstanceCount",
        min_capacity=capacity[0],
        max_capacity=capacity[1],
        role=iam.Role.from_role_arn(scope, "ServiceLinkedRole", role_arn, mutable=False),
    )
    target.node.add_dependency(endpoint)
    return target
