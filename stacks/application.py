"""The whole platform: which stacks exist, how they are wired, and the guardrails on them.

``app.py`` calls :func:`build_platform` once with the typed config. Stack names are stable
(``<project>-<env>-<part>``) so ``cdk deploy`` always targets the same CloudFormation stacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import aws_cdk as cdk

from contracts.config import AppConfig
from contracts.names import endpoint_name, endpoint_stack_name, stack_name
from stacks.data_stack import DataStack
from stacks.delivery_stack import DeliveryStack
from stacks.endpoint_stack import EndpointStack
from stacks.guardrails import add_guardrails
from stacks.monitoring_stack import MonitoringStack
from stacks.network_stack import NetworkStack
from stacks.pipeline_stack import PipelineStack
from stacks.studio_stack import StudioStack

#: Environment names held to production-only rules (e.g. redundant endpoints).
PRODUCTION_ENVIRONMENTS: Final[tuple[str, ...]] = ("prod", "production")


@dataclass(frozen=True, kw_only=True)
class Platform:
    """Handles on every stack, for tests and for stacks added later."""

    data: DataStack
    network: NetworkStack
    studio: StudioStack
    pipeline: PipelineStack
    monitoring: MonitoringStack
    delivery: DeliveryStack
    #: Endpoint stacks by stage name; a stage is absent until its approved-model file exists.
    endpoints: dict[str, EndpointStack] = field(default_factory=dict)


def build_platform(app: cdk.App, config: AppConfig) -> Platform:
    """Create every stack of ``config.env`` in ``app`` and register the guardrails.

    Returns:
        The :class:`Platform` with each stack.
    """
    prefix = config.prefix
    env = (
        cdk.Environment(account=config.env.account, region=config.env.region)
        if config.env.account or config.env.region
        else None  # env-agnostic: the same template deploys to any account/region
    )

    # ---- stacks (add new ones below, wiring resources, not names) ----
    data = DataStack(
        app,
        stack_name(prefix, "data"),
        prefix=prefix,
        retention=config.env.retention,
        env=env,
        description=f"{prefix}: data stores",
    )
    network = NetworkStack(
        app,
        stack_name(prefix, "network"),
        network=config.env.network,
        flow_log_key=data.key,
        env=env,
        description=f"{prefix}: private network",
    )
    studio = StudioStack(
        app,
        stack_name(prefix, "studio"),
        prefix=prefix,
        studio=config.env.studio,
        vpc=network.vpc,
        subnets=network.subnets,
        security_group=network.sagemaker_security_group,
        key=data.key,
        artifact_bucket=data.artifact_bucket,
        model_package_group_name=data.model_package_group_name,
        instance_types=config.env.instances.allowed,
        env=env,
        description=f"{prefix}: SageMaker Studio",
    )
    pipeline = PipelineStack(
        app,
        stack_name(prefix, "pipeline"),
        config=config,
        key=data.key,
        artifact_bucket=data.artifact_bucket,
        model_package_group_name=data.model_package_group_name,
        model_package_group_arn=data.model_package_group_arn,
        vpc=network.vpc,
        subnets=network.subnets,
        security_group=network.sagemaker_security_group,
        env=env,
        description=f"{prefix}: training pipeline",
    )
    monitoring = MonitoringStack(
        app,
        stack_name(prefix, "monitoring"),
        config=config,
        key=data.key,
        artifact_bucket=data.artifact_bucket,
        vpc=network.vpc,
        subnets=network.subnets,
        security_group=network.sagemaker_security_group,
        training_pipeline_name=pipeline.pipeline_name,
        model_package_group_name=data.model_package_group_name,
        env=env,
        description=f"{prefix}: drift monitoring, dashboards and notifications",
    )
    delivery = DeliveryStack(
        app,
        stack_name(prefix, "delivery"),
        config=config,
        key=data.key,
        artifact_bucket=data.artifact_bucket,
        delivery_bucket=data.delivery_bucket,
        training_pipeline_name=pipeline.pipeline_name,
        model_package_group_name=data.model_package_group_name,
        model_package_group_arn=data.model_package_group_arn,
        notification_topic=monitoring.topic,
        env=env,
        description=f"{prefix}: push-to-train and approve-to-deploy pipelines",
    )
    endpoints: dict[str, EndpointStack] = {}
    for stage in config.env.endpoints:
        if stage.approved_model is None:
            continue  # nothing approved yet: `python -m release.resolve` writes stage.model_file
        endpoints[stage.name] = EndpointStack(
            app,
            endpoint_stack_name(prefix, stage.name),
            prefix=prefix,
            stage=stage,
            approved=stage.approved_model,
            key=data.key,
            artifact_bucket=data.artifact_bucket,
            vpc=network.vpc,
            subnets=network.subnets,
            security_group=network.sagemaker_security_group,
            alarm_topic=monitoring.topic,
            env=env,
            description=f"{prefix}: {stage.name} endpoint (model version {stage.approved_model.version})",
        )
        monitoring.add_drift_schedule(
            endpoints[stage.name], stage=stage, endpoint_name=endpoint_name(prefix, stage.name)
        )
    platform = Platform(
        data=data,
        network=network,
        studio=studio,
        pipeline=pipeline,
        monitoring=monitoring,
        delivery=delivery,
        endpoints=endpoints,
    )
    # ---- end of stacks ----

    for stack in (data, network, studio, pipeline, monitoring, delivery, *endpoints.values()):
        for key, value in config.all_tags.items():
            cdk.Tags.of(stack).add(key, value)
    add_guardrails(app, production=config.env.name in PRODUCTION_ENVIRONMENTS)
    return platform
