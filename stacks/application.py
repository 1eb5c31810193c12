"""The whole platform: which stacks exist, how they are wired, and the guardrails on them.

``app.py`` calls :func:`build_platform` once with the typed config. Stack names are stable
(``<project>-<env>-<part>``) so ``cdk deploy`` always targets the same CloudFormation stacks.
Every stack but the data stack takes its config section and one
:class:`~stacks.common.shared.SharedResources`, which grows as the stacks that make its parts
are created (the network, then the alert topic). Stacks are created in the order they depend on
each other: the foundation (data, network), then the workloads that use it. Add a stack there,
wiring resources, not names.

Everything above is in the tooling account (``environments.<env>.account``). An endpoint stage in
another account has its endpoint stack there, with base and network stacks of its own in that
account (:mod:`stacks.stage_account`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Final

import aws_cdk as cdk

from contracts.config import AppConfig, EnvironmentConfig, network_for
from contracts.config.use_cases import UseCase
from contracts.names import stack_name
from stacks.batch.props import batch_scoring
from stacks.common.shared import Accounts, SharedResources
from stacks.data.stage_access import StageAccess
from stacks.data_stack import DataStack
from stacks.delivery_stack import DeliveryStack
from stacks.endpoint_stack import EndpointStack
from stacks.endpoint_stages import endpoint_stages
from stacks.guardrails import add_guardrails
from stacks.monitoring_stack import MonitoringStack
from stacks.network_stack import NetworkStack
from stacks.pipeline_stack import PipelineStack
from stacks.stage_account import StageAccount, drift_checked_stages
from stacks.studio_stack import StudioStack
from stacks.use_case import UseCaseStacks, build_use_case

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
    #: The stacks of each stage in another account (its endpoint stack aside), by stage name.
    stage_accounts: dict[str, StageAccount] = field(default_factory=dict)
    #: The use-case layer of each additional use case, by name (:mod:`stacks.use_case`).
    use_cases: dict[str, UseCaseStacks] = field(default_factory=dict)


def build_platform(app: cdk.App, config: AppConfig) -> Platform:
    """Create every stack of ``config.env`` in ``app`` and register the guardrails.

    Returns:
        The :class:`Platform` with each stack.
    """
    settings = config.env
    env = (
        cdk.Environment(account=settings.account, region=settings.region)
        if settings.account or settings.region
        else None  # env-agnostic: the same template deploys to any account/region
    )
    data, network, shared = _foundation(app, config, env)
    primary = config.use_cases[0] if config.use_cases else None
    platform = _workloads(app, settings, shared, env, data=data, network=network, primary=primary)
    platform = dataclasses.replace(
        platform,
        use_cases={
            case.name: build_use_case(
                app, config, case, network=shared.network, studio=platform.studio, env=env
            )
            for case in config.use_cases
            if not case.primary
        },
    )
    stacks = (
        platform.data,
        platform.network,
        platform.studio,
        platform.pipeline,
        platform.monitoring,
        platform.delivery,
        *(stack for where in platform.stage_accounts.values() for stack in where.stacks),
        *platform.endpoints.values(),
    )
    for stack in stacks:
        for key, value in config.all_tags.items():
            cdk.Tags.of(stack).add(key, value)
    for case in platform.use_cases.values():
        for stack in case.stacks:
            for key, value in {**config.all_tags, **case.tags}.items():
                cdk.Tags.of(stack).add(key, value)
    add_guardrails(app, production=settings.name in PRODUCTION_ENVIRONMENTS)
    return platform


def _foundation(
    app: cdk.App, config: AppConfig, env: cdk.Environment | None
) -> tuple[DataStack, NetworkStack, SharedResources]:
    """The data stack and the network, and the shared resources (with the network) they make."""
    prefix, settings = config.prefix, config.env
    data = DataStack(
        app,
        stack_name(prefix, "data"),
        config=settings.retention,
        prefix=prefix,
        stage_access=StageAccess(
            accounts=settings.cross_account_stages,
            organization_id=settings.organization_id,
            drift_checked=drift_checked_stages(settings),
        ),
        tracking=settings.tracking,
        env=env,
        description=f"{prefix}: data stores",
    )
    shared = _shared_resources(config, data)
    network = NetworkStack(
        app,
        stack_name(prefix, "network"),
        config=network_for(settings.network, settings.tracking),
        shared=shared,
        env=env,
        description=f"{prefix}: private network",
    )
    return data, network, shared.with_network(network.network)


def _workloads(
    app: cdk.App,
    settings: EnvironmentConfig,
    shared: SharedResources,
    env: cdk.Environment | None,
    *,
    data: DataStack,
    network: NetworkStack,
    primary: UseCase | None = None,
) -> Platform:
    """Every stack that uses the shared resources, in the order they depend on each other."""
    prefix, batch = shared.prefix, batch_scoring(settings.batch, settings.monitoring)
    studio = StudioStack(
        app,
        stack_name(prefix, "studio"),
        config=settings.studio,
        shared=shared,
        env=env,
        description=f"{prefix}: SageMaker Studio",
    )
    pipeline = PipelineStack(
        app,
        stack_name(prefix, "pipeline"),
        config=settings.pipeline,
        shared=shared,
        env=env,
        description=f"{prefix}: training pipeline",
        use_case=primary,
        batch=batch,
    )
    monitoring = MonitoringStack(
        app,
        stack_name(prefix, "monitoring"),
        config=settings.monitoring,
        shared=shared,
        max_runtime_seconds=settings.pipeline.max_runtime_seconds,
        env=env,
        description=f"{prefix}: drift monitoring, dashboards and notifications",
        batch=batch,
    )
    shared = shared.with_alert_topic(monitoring.topic)
    delivery = DeliveryStack(
        app,
        stack_name(prefix, "delivery"),
        config=settings.delivery,
        shared=shared,
        env=env,
        description=f"{prefix}: push-to-train and approve-to-deploy pipelines",
    )
    endpoints, stage_accounts = endpoint_stages(app, settings, shared, monitoring=monitoring, env=env)
    return Platform(
        data=data,
        network=network,
        studio=studio,
        pipeline=pipeline,
        monitoring=monitoring,
        delivery=delivery,
        endpoints=endpoints,
        stage_accounts=stage_accounts,
    )


def _shared_resources(config: AppConfig, data: DataStack) -> SharedResources:
    """The names, settings and data-stack resources every other stack is handed."""
    return data.shared_resources(
        prefix=config.prefix,
        environment=config.env.name,
        tags=config.all_tags,
        instances=config.env.instances,
        stages=config.env.endpoints,
        accounts=Accounts(
            tooling=config.env.account,
            region=config.env.region,
            organization_id=config.env.organization_id,
            bootstrap_qualifier=config.env.bootstrap_qualifier,
            stage_accounts=config.env.cross_account_stages,
        ),
    )
