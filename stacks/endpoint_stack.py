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
rollback alarm. The constructs live in :mod:`stacks.endpoint`; with autoscaling attached, changing
a stage's instance type needs one manual step first (:mod:`stacks.endpoint.autoscaling`).

A stage in another account (``shared.accounts.stage_accounts``) is deployed there, with that
account's key, capture bucket, network and alert topic in ``shared`` (its base and network
stacks, :mod:`stacks.stage_base_stack`); its model role reads the approved model from the tooling
account (:mod:`stacks.endpoint.cross_account`).

Modes: an approved model with a ``shadow`` version (prod, ``endpoints.prod.shadow``) adds a second
model and a shadow variant (:mod:`stacks.endpoint.shadow`); an ``async`` stage gets its
notification topics, an ``AsyncInferenceConfig`` and scaling on its queue down to zero
(:mod:`stacks.endpoint.async_inference`, :mod:`stacks.endpoint.async_scaling`).
"""

from __future__ import annotations

import dataclasses

import aws_cdk as cdk
from constructs import Construct

from contracts import layout
from contracts.approved_model import ApprovedModel
from contracts.config import StageConfig
from contracts.names import endpoint_name, stage_model_role_name
from stacks.common.alarm_actions import FORWARDED
from stacks.common.nag import acknowledge
from stacks.common.shared import SharedResources
from stacks.endpoint.alarms import RollbackAlarms, RollbackAlarmsProps
from stacks.endpoint.async_inference import AsyncTopics
from stacks.endpoint.async_scaling import AsyncScaling, AsyncScalingProps
from stacks.endpoint.autoscaling import VariantAutoscaling, VariantAutoscalingProps
from stacks.endpoint.cross_account import CrossAccountServing
from stacks.endpoint.guarded_endpoint import GuardedEndpoint, GuardedEndpointProps
from stacks.endpoint.idle_alarm import IdleAlarm, IdleAlarmProps
from stacks.endpoint.model import HostedModel, HostedModelProps
from stacks.endpoint.serving_config import VARIANT, ServingConfig, ServingConfigProps
from stacks.endpoint.shadow import SHADOW_VARIANT

__all__ = ["EndpointStack"]


class EndpointStack(cdk.Stack):
    """Model, endpoint config and endpoint of one stage, with alarms, autoscaling and rollback.

    ``config`` is the stage with its approved model (``StageConfig.approved_model``).

    Attributes:
        endpoint_name: the fixed endpoint name.
        capture_uri: ``s3://<artifact bucket>/data-capture`` (whether or not this stage captures).
        hosted, serving, alarms, guarded: the constructs; ``autoscaling`` and ``idle`` are None
            unless configured; ``shadow_model`` unless the approved model has a shadow,
            ``async_topics`` unless the stage is async.

    Raises:
        ValueError: a stage without an approved model, an approved image that is not an ECR URI,
            a rollout SageMaker would reject, an endpoint name longer than SageMaker allows, or a
            shadow version on a stage without a ``shadow`` section (or in another account).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        shared: SharedResources,
        env: cdk.Environment | None = None,
        synthesizer: cdk.IStackSynthesizer | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, synthesizer=synthesizer, description=description)
        approved = config.approved_model
        if approved is None:  # `python -m release.resolve` writes the stage's model file
            raise ValueError(f"endpoint stage {config.name!r} has no approved model ({config.model_file})")
        self.endpoint_name = endpoint_name(shared.prefix, config.name)
        capturing = config.serverless is None and config.data_capture_percent > 0
        self.async_topics = (
            AsyncTopics(self, "AsyncTopics", endpoint_name=self.endpoint_name, key=shared.key)
            if config.async_inference is not None
            else None
        )
        model = HostedModelProps(
            endpoint_name=self.endpoint_name,
            approved=approved,
            key=shared.key,
            artifact_bucket=shared.artifact_bucket,
            network=shared.network,
            capture_prefix=f"{layout.CAPTURE_PREFIX}{self.endpoint_name}/" if capturing else None,
            serverless=config.serverless is not None,
            cross_account=_cross_account(config, shared),
            async_io=self.async_topics.io(self.endpoint_name) if self.async_topics else None,
        )
        self.hosted = HostedModel(self, "HostedModel", props=model)
        self.shadow_model = _shadow_model(self, config, model)
        if self.async_topics is not None:
            self.async_topics.publish_only_as(self.hosted.execution.role)
        self.serving = ServingConfig(
            self,
            "EndpointConfig",
            props=ServingConfigProps(
                endpoint_name=self.endpoint_name,
                version=approved.version,
                stage=config,
                model=self.hosted.model,
                key=shared.key,
                artifact_bucket=shared.artifact_bucket,
                shadow_model=self.shadow_model.model if self.shadow_model else None,
                async_topics=self.async_topics,
            ),
        )
        self.capture_uri = self.serving.capture_uri
        self.alarms, self.guarded = self._guarded_endpoint(config, shared)
        self.autoscaling = self._autoscaling(config)
        self.idle = self._idle_alarm(config, shared)
        self._outputs(approved)

    def _outputs(self, approved: ApprovedModel) -> None:
        """What the release tools read back: the endpoint, the version (and its shadow), async topics."""
        cdk.CfnOutput(self, "EndpointName", value=self.endpoint_name)
        cdk.CfnOutput(self, "ModelPackageArn", value=approved.model_package_arn)
        cdk.CfnOutput(self, "ModelVersion", value=str(approved.version))
        if approved.shadow is not None:
            cdk.CfnOutput(self, "ShadowModelVersion", value=str(approved.shadow.version))
        if self.async_topics is not None:
            cdk.CfnOutput(self, "AsyncSuccessTopic", value=self.async_topics.success.topic_arn)
            cdk.CfnOutput(self, "AsyncErrorTopic", value=self.async_topics.error.topic_arn)

    def _guarded_endpoint(
        self, config: StageConfig, shared: SharedResources
    ) -> tuple[RollbackAlarms, GuardedEndpoint]:
        """The rollback alarms, and the endpoint whose blue/green updates roll back on them."""
        alarms = RollbackAlarms(
            self,
            "RollbackAlarms",
            props=RollbackAlarmsProps(
                endpoint_name=self.endpoint_name,
                variant_name=VARIANT,
                alarms=config.alarms,
                topic=shared.alarm_topic,
            ),
        )
        guarded = GuardedEndpoint(
            self,
            "Endpoint",
            props=GuardedEndpointProps(
                endpoint_name=self.endpoint_name,
                endpoint_config_name=self.serving.config.attr_endpoint_config_name,
                stage=config,
                alarm_names=alarms.names,
                shadow=self.shadow_model is not None,
            ),
        )
        if shared.alarm_topic is None:  # a stage account: the alarms are forwarded, not emailed here
            for alarm in (alarms.errors, alarms.latency):
                logical_id = self.resolve(self.get_logical_id(alarm.node.default_child))  # type: ignore[arg-type]
                acknowledge(
                    guarded, f"SageMaker-EndpointRollbackAlarms[{logical_id}.AlarmActions]", FORWARDED
                )
        return alarms, guarded

    def _autoscaling(self, config: StageConfig) -> VariantAutoscaling | AsyncScaling | None:
        """Target tracking on the variant, for an instance stage that configures it; for an async
        stage, on its queue (down to zero)."""
        if config.async_inference is not None:
            queued = AsyncScalingProps(
                endpoint=self.guarded.endpoint,
                endpoint_name=self.endpoint_name,
                variant_name=VARIANT,
                queued=config.async_inference,
            )
            return AsyncScaling(self, "AsyncScaling", props=queued)
        if config.autoscaling is None or config.serverless is not None:
            return None
        scaling = VariantAutoscalingProps(
            endpoint=self.guarded.endpoint,
            endpoint_name=self.endpoint_name,
            variant_name=VARIANT,
            scaling=config.autoscaling,
        )
        return VariantAutoscaling(self, "Autoscaling", props=scaling)

    def _idle_alarm(self, config: StageConfig, shared: SharedResources) -> IdleAlarm | None:
        """The no-invocations alarm, unless ``idleAlarmDays`` is 0."""
        if not config.idle_alarm_days:
            return None
        idle = IdleAlarmProps(
            endpoint_name=self.endpoint_name,
            variant_name=VARIANT,
            days=config.idle_alarm_days,
            topic=shared.alarm_topic,
        )
        return IdleAlarm(self, "IdleAlarm", props=idle)


def _shadow_model(scope: Construct, config: StageConfig, model: HostedModelProps) -> HostedModel | None:
    """The approved model's shadow version as a second model (its own role), or None.

    Raises:
        ValueError: a shadow version on a stage without a ``shadow`` section, or in another account
            (the tooling account admits one model role name per stage).
    """
    shadow = model.approved.shadow
    if shadow is None:
        return None
    if config.shadow is None:
        raise ValueError(
            f"endpoint stage {config.name!r}: {config.model_file} names shadow version {shadow.version} "
            f"but endpoints.{config.name}.shadow is not set"
        )
    if model.cross_account is not None:
        raise ValueError(
            f"endpoint stage {config.name!r}: a shadow variant in another account is not supported"
        )
    # Its role writes the shadow's own captures only (<endpoint>/Shadow/...): production's role keeps
    # the endpoint's folder, so whichever role SageMaker writes a variant's captures with, the
    # shadow's cannot write into production's (the traffic the shadow report compares against).
    capture = f"{model.capture_prefix}{SHADOW_VARIANT}/" if model.capture_prefix else None
    return HostedModel(
        scope, "ShadowModel", props=dataclasses.replace(model, approved=shadow, capture_prefix=capture)
    )


def _cross_account(config: StageConfig, shared: SharedResources) -> CrossAccountServing | None:
    """For a stage in another account, its model role's fixed name and the tooling account.

    Raises:
        ValueError: the stage names another account but the tooling account is unknown.
    """
    if config.name not in shared.accounts.stage_accounts:
        return None
    if shared.accounts.tooling is None:  # config refuses this; the grants must name both sides
        raise ValueError(f"endpoint stage {config.name!r} is in another account: name the tooling account")
    return CrossAccountServing(
        role_name=stage_model_role_name(shared.prefix, config.name), tooling_account=shared.accounts.tooling
    )
