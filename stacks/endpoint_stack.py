"""One endpoint stage (staging or prod) serving the approved model version.

The stack is synthesized only once ``python -m release.resolve`` has written the stage's
approved-model file (``StageConfig.model_file``); the deploy pipeline does that at deploy time, so
synth never asks AWS which model is approved.

Changing the approved version renames the model and the endpoint config (both carry the version),
so CloudFormation creates new ones and *updates* the endpoint in place, which is what runs
SageMaker's blue/green deployment: canary or linear traffic shifting from config, and automatic
rollback when one of the stage's alarms (5xx, p99 model latency; actions enabled) fires.

Operational note (AWS docs, "Update endpoints that use auto scaling"): with autoscaling attached,
an update that changes the *instance type* fails until the variant is deregistered as a scalable
target; changing the model (every normal release) is allowed. To change the instance type,
deregister first (``aws application-autoscaling deregister-scalable-target``), then deploy.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from ml_code import contract
from release.contract import ApprovedModel
from stacks.config_release import StageConfig
from stacks.constructs.nag import acknowledge
from stacks.endpoint.alarms import VARIANT, RollbackAlarms, RollbackAlarmsProps
from stacks.endpoint.model import HostedModel, HostedModelProps
from stacks.guardrails.sagemaker_rules import STAGE_TAG


def endpoint_name(prefix: str, stage: str) -> str:
    """``<project>-<env>-<stage>``: the endpoint's fixed name (dashboards, alarms and tools use it)."""
    return f"{prefix}-{stage}"


class EndpointStack(cdk.Stack):
    """Model, endpoint config and endpoint of one stage, with alarms, autoscaling and rollback."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        stage: StageConfig,
        approved: ApprovedModel,
        key: kms.IKey,
        artifact_bucket: s3.IBucket,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection | Sequence[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        alarm_topic: sns.ITopic,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.endpoint_name = endpoint_name(prefix, stage.name)
        versioned = f"{self.endpoint_name}-v{approved.version}"
        subnet_list = (
            subnets
            if not isinstance(subnets, ec2.SubnetSelection)
            else vpc.select_subnets(**subnets._values).subnets
        )
        hosted = HostedModel(
            self,
            "HostedModel",
            props=HostedModelProps(
                name=versioned,
                approved=approved,
                key=key,
                artifact_bucket=artifact_bucket,
                subnets=list(subnet_list),
                security_group=security_group,
            ),
        )
        self.capture_uri = f"s3://{artifact_bucket.bucket_name}/{contract.CAPTURE_PREFIX}"
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            endpoint_config_name=versioned,
            production_variants=[_variant(stage, hosted.model.attr_model_name)],
            kms_key_id=None if stage.serverless else key.key_arn,
            data_capture_config=_capture(stage, self.capture_uri, key)
            if stage.data_capture_percent
            else None,
            tags=[cdk.CfnTag(key=STAGE_TAG, value=stage.name)],
        )
        if stage.serverless is not None:
            reason = (
                "Serverless endpoints have no ML storage volume and SageMaker rejects KmsKeyId on a "
                "serverless config; they cannot capture data either, so no payload rests on endpoint storage."
            )
            acknowledge(
                self.endpoint_config, "NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured", reason
            )
            acknowledge(self.endpoint_config, "SageMaker-EndpointConfigKms[KmsKeyId]", reason)
        self.alarms = RollbackAlarms(
            self,
            "RollbackAlarms",
            props=RollbackAlarmsProps(
                endpoint_name=self.endpoint_name, alarms=stage.alarms, topic=alarm_topic
            ),
        )
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            deployment_config=_deployment(stage, self.alarms.names),
        )
        self.endpoint.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
        if stage.autoscaling is not None:
            target = appscaling.ScalableTarget(
                self,
                "ScalableTarget",
                service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
                resource_id=f"endpoint/{self.endpoint_name}/variant/{VARIANT}",
                scalable_dimension="sagemaker:variant:DesiredInstanceCount",
                min_capacity=stage.autoscaling.min_capacity,
                max_capacity=stage.autoscaling.max_capacity,
            )
            target.node.add_dependency(self.endpoint)
            target.scale_to_track_metric(
                "InvocationsPerInstance",
                target_value=stage.autoscaling.target_invocations_per_instance,
                predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
                scale_in_cooldown=cdk.Duration.minutes(5),
                scale_out_cooldown=cdk.Duration.minutes(1),
            )
        cdk.CfnOutput(self, "EndpointName", value=self.endpoint_name)
        cdk.CfnOutput(self, "ModelPackageArn", value=approved.model_package_arn)
        cdk.CfnOutput(self, "ModelVersion", value=str(approved.version))


def _variant(stage: StageConfig, model_name: str) -> sagemaker.CfnEndpointConfig.ProductionVariantProperty:
    if stage.serverless is not None:
        return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=VARIANT,
            model_name=model_name,
            serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                memory_size_in_mb=stage.serverless.memory_size_mb,
                max_concurrency=stage.serverless.max_concurrency,
            ),
        )
    return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
        variant_name=VARIANT,
        model_name=model_name,
        instance_type=stage.instance_type,
        initial_instance_count=stage.instance_count,
        initial_variant_weight=1.0,
    )


def _capture(
    stage: StageConfig, uri: str, key: kms.IKey
) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty:
    return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
        enable_capture=True,
        initial_sampling_percentage=stage.data_capture_percent,
        destination_s3_uri=uri,
        kms_key_id=key.key_arn,
        capture_options=[
            sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input"),
            sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Output"),
        ],
        capture_content_type_header=sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
            csv_content_types=[contract.CONTENT_TYPE_CSV],
            json_content_types=[contract.CONTENT_TYPE_JSON, contract.CONTENT_TYPE_JSONLINES],
        ),
    )


def _deployment(stage: StageConfig, alarm_names: list[str]) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:
    rollout = stage.rollout
    wait = rollout.wait_minutes * 60
    step = sagemaker.CfnEndpoint.CapacitySizeProperty(type="CAPACITY_PERCENT", value=rollout.step_percent)
    routing = sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
        type=rollout.mode.upper(),
        # Required for every type (botocore's model); for all-at-once it is the baking period.
        wait_interval_in_seconds=wait,
        canary_size=step if rollout.mode == "canary" else None,
        linear_step_size=step if rollout.mode == "linear" else None,
    )
    steps = 1 if rollout.mode != "linear" else -(-100 // rollout.step_percent)
    return sagemaker.CfnEndpoint.DeploymentConfigProperty(
        blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
            traffic_routing_configuration=routing,
            termination_wait_in_seconds=rollout.termination_wait_minutes * 60,
            # Room for every traffic step plus a final bake, on top of provisioning the green fleet.
            maximum_execution_timeout_in_seconds=min(28800, 1800 + wait * (steps + 1)),
        ),
        auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
            alarms=[sagemaker.CfnEndpoint.AlarmProperty(alarm_name=name) for name in alarm_names]
        ),
    )
