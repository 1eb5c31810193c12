"""One endpoint stage (staging or prod) serving the approved model version.

The stack is synthesized only once ``python -m release.resolve`` has written the stage's
approved-model file (``StageConfig.model_file``); the deploy pipeline does that at deploy time, so
synth never asks AWS which model is approved.

Changing the approved version, or anything CloudFormation cannot change in place on the model or
endpoint config (instance type or count, serverless memory, capture percentage, subnets, ...),
renames them: names are ``<endpoint>-v<version>-<fingerprint of the create-only properties>``
(:mod:`contracts.names` argues why). CloudFormation then creates new ones and *updates* the
endpoint (fixed name, pinned logical ID) in place, which is what runs SageMaker's blue/green
deployment: canary or linear traffic shifting from config, and automatic rollback when one of the
stage's rollback alarms (5xx, p99 model latency; actions enabled, notifying the alert topic) fires.
A separate idle alarm (no invocations for ``idleAlarmDays``) notifies the topic too; it is not a
rollback alarm. The constructs live in :mod:`stacks.endpoint`.

Operational note (AWS docs, "Update endpoints that use auto scaling"): with autoscaling attached,
an update that changes the *instance type* fails until the variant is deregistered as a scalable
target; changing the model (every normal release) is allowed. To change a stage's instance type:
``aws application-autoscaling deregister-scalable-target --service-namespace sagemaker
--resource-id endpoint/<endpoint>/variant/AllTraffic --scalable-dimension
sagemaker:variant:DesiredInstanceCount``, then deploy the stack (which registers it again).
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from contracts import layout
from contracts.approved_model import ApprovedModel
from contracts.config import StageConfig
from contracts.names import endpoint_name
from stacks.endpoint.alarms import RollbackAlarms, RollbackAlarmsProps
from stacks.endpoint.autoscaling import VariantAutoscaling, VariantAutoscalingProps
from stacks.endpoint.guarded_endpoint import GuardedEndpoint, GuardedEndpointProps
from stacks.endpoint.idle_alarm import IdleAlarm, IdleAlarmProps
from stacks.endpoint.model import HostedModel, HostedModelProps
from stacks.endpoint.serving_config import VARIANT, ServingConfig, ServingConfigProps

__all__ = ["EndpointStack"]


class EndpointStack(cdk.Stack):
    """Model, endpoint config and endpoint of one stage, with alarms, autoscaling and rollback.

    Attributes:
        endpoint_name: the fixed endpoint name.
        capture_uri: ``s3://<artifact bucket>/data-capture`` (whether or not this stage captures).
        hosted, serving, alarms, guarded: the constructs; ``autoscaling`` and ``idle`` are None
            unless configured.

    Raises:
        ValueError: an approved image that is not an ECR URI, a rollout SageMaker would reject, or
            an endpoint name longer than SageMaker allows.
    """

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
        subnet_list = (
            vpc.select_subnets(**subnets._values).subnets  # jsii structs keep their fields in _values
            if isinstance(subnets, ec2.SubnetSelection)
            else list(subnets)
        )
        capturing = stage.serverless is None and stage.data_capture_percent > 0
        self.hosted = HostedModel(
            self,
            "HostedModel",
            props=HostedModelProps(
                endpoint_name=self.endpoint_name,
                approved=approved,
                key=key,
                artifact_bucket=artifact_bucket,
                vpc=vpc,
                subnets=subnet_list,
                security_group=security_group,
                capture_prefix=f"{layout.CAPTURE_PREFIX}{self.endpoint_name}/" if capturing else None,
                serverless=stage.serverless is not None,
            ),
        )
        self.serving = ServingConfig(
            self,
            "EndpointConfig",
            props=ServingConfigProps(
                endpoint_name=self.endpoint_name,
                version=approved.version,
                stage=stage,
                model=self.hosted.model,
                key=key,
                artifact_bucket=artifact_bucket,
            ),
        )
        self.capture_uri = self.serving.capture_uri
        self.alarms = RollbackAlarms(
            self,
            "RollbackAlarms",
            props=RollbackAlarmsProps(
                endpoint_name=self.endpoint_name, variant_name=VARIANT, alarms=stage.alarms, topic=alarm_topic
            ),
        )
        self.guarded = GuardedEndpoint(
            self,
            "Endpoint",
            props=GuardedEndpointProps(
                endpoint_name=self.endpoint_name,
                endpoint_config_name=self.serving.config.attr_endpoint_config_name,
                stage=stage,
                alarm_names=self.alarms.names,
            ),
        )
        self.autoscaling = (
            VariantAutoscaling(
                self,
                "Autoscaling",
                props=VariantAutoscalingProps(
                    endpoint=self.guarded.endpoint,
                    endpoint_name=self.endpoint_name,
                    variant_name=VARIANT,
                    scaling=stage.autoscaling,
                ),
            )
            if stage.autoscaling is not None and stage.serverless is None
            else None
        )
        self.idle = (
            IdleAlarm(
                self,
                "IdleAlarm",
                props=IdleAlarmProps(
                    endpoint_name=self.endpoint_name,
                    variant_name=VARIANT,
                    days=stage.idle_alarm_days,
                    topic=alarm_topic,
                ),
            )
            if stage.idle_alarm_days
            else None
        )
        cdk.CfnOutput(self, "EndpointName", value=self.endpoint_name)
        cdk.CfnOutput(self, "ModelPackageArn", value=approved.model_package_arn)
        cdk.CfnOutput(self, "ModelVersion", value=str(approved.version))
