"""The endpoint stages of the primary use case: each stage's endpoint stack, in its own account when
config puts it in another (with that account's base and network stacks, :mod:`stacks.stage_account`),
with its drift-check schedule.
"""

from __future__ import annotations

import aws_cdk as cdk

from contracts.config import EnvironmentConfig, StageConfig
from contracts.names import endpoint_stack_name
from stacks.common.shared import SharedResources
from stacks.endpoint_stack import EndpointStack
from stacks.monitoring_stack import MonitoringStack
from stacks.stage_account import StageAccount, stage_account, stage_synthesizer


def endpoint_stages(
    app: cdk.App,
    settings: EnvironmentConfig,
    shared: SharedResources,
    *,
    monitoring: MonitoringStack,
    env: cdk.Environment | None,
) -> tuple[dict[str, EndpointStack], dict[str, StageAccount]]:
    """The base and network stacks of each stage in another account; each approved stage's endpoint."""
    stage_accounts = {
        stage: stage_account(app, settings, shared, stage=stage, account=account)
        for stage, account in settings.cross_account_stages.items()
    }
    endpoints = {
        stage.name: endpoint_stack(
            app,
            stage,
            shared=shared,
            monitoring=monitoring,
            env=env,
            elsewhere=stage_accounts.get(stage.name),
        )
        for stage in settings.endpoints
        if stage.approved_model is not None  # else nothing approved yet: `python -m release.resolve`
    }
    return endpoints, stage_accounts


def endpoint_stack(
    app: cdk.App,
    stage: StageConfig,
    *,
    shared: SharedResources,
    monitoring: MonitoringStack,
    env: cdk.Environment | None,
    elsewhere: StageAccount | None = None,
) -> EndpointStack:
    """The stage's endpoint stack (its approved model in ``stage``), with its drift-check schedule;
    in the stage's own account (``elsewhere``) when it has one."""
    version = stage.approved_model.version if stage.approved_model else None
    stack = EndpointStack(
        app,
        endpoint_stack_name(shared.prefix, stage.name),
        config=stage,
        shared=elsewhere.shared if elsewhere else shared,
        env=elsewhere.env if elsewhere else env,
        synthesizer=stage_synthesizer(shared) if elsewhere else None,
        description=f"{shared.prefix}: {stage.name} endpoint (model version {version})",
    )
    (elsewhere or monitoring).add_drift_schedule(stack, stage=stage)
    return stack
