"""An endpoint stage in another account: its stacks there, before its endpoint stack.

For each stage whose ``endpoints.<stage>.account`` is not the tooling account,
:func:`stacks.application.build_platform` creates, in that account and the tooling account's
region, ``<prefix>-<stage>-base`` (:class:`stacks.stage_base_stack.StageBaseStack`: key, capture
bucket, alert topic, smoke-test role) and ``<prefix>-<stage>-network`` (the same
:class:`stacks.network_stack.NetworkStack` and network config as the tooling side, whose S3 gateway
also admits the tooling account's model artifacts). They exist whether or not a version is
approved: they are deployed once, by hand, before the deploy pipeline ships the first version
(it deploys the endpoint stack alone). The endpoint stack ``<prefix>-endpoint-<stage>`` then
goes into that account too, using them (:attr:`StageAccount.shared`). A stage that is
drift-checked (instance-backed, capture on) also gets ``<prefix>-<stage>-monitoring`` there
(:class:`stacks.stage.monitoring_stack.StageMonitoringStack`: the drift check runs where the
traffic is captured), and its endpoint stack the schedule that runs it
(:meth:`StageAccount.add_drift_schedule`).

Every stack in a stage account is synthesized for that account's CDK bootstrap, qualified by
``bootstrapQualifier`` (``cdk bootstrap aws://<account>/<region> --trust <tooling account>
--qualifier <qualifier>``): its template asks for ``/cdk-bootstrap/<qualifier>/version`` and
its deployment assumes ``cdk-<qualifier>-deploy-role-<account>-<region>``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import aws_cdk as cdk
from constructs import Construct

from contracts.config import EnvironmentConfig, StageConfig
from contracts.names import stage_stack_name
from stacks.common.shared import SharedResources
from stacks.monitoring.drift_alarms import monitored
from stacks.monitoring.drift_schedule import DriftSchedule
from stacks.network_stack import NetworkStack
from stacks.stage.monitoring_stack import StageMonitoringProps, StageMonitoringStack
from stacks.stage_base_stack import StageBaseProps, StageBaseStack


@dataclass(frozen=True, kw_only=True)
class StageAccount:
    """A stage's base and network stacks in its own account, and what its endpoint stack uses there."""

    base: StageBaseStack
    network: NetworkStack
    #: The tooling side's shared resources with the stage's key, capture bucket, network and topic.
    shared: SharedResources
    env: cdk.Environment
    #: The stage's drift check there; None when the stage is not drift-checked.
    monitoring: StageMonitoringStack | None = None

    @property
    def stacks(self) -> tuple[cdk.Stack, ...]:
        """Every stack of the stage in its account but its endpoint stack."""
        return (self.base, self.network, *([self.monitoring] if self.monitoring else []))

    def add_drift_schedule(self, scope: Construct, *, stage: StageConfig) -> DriftSchedule | None:
        """The drift-check schedule of ``stage``'s endpoint stack ``scope``, from the stage's
        monitoring stack (None when the stage is not drift-checked or has no baseline)."""
        return self.monitoring.add_drift_schedule(scope, stage=stage) if self.monitoring else None


def drift_checked_stages(settings: EnvironmentConfig) -> frozenset[str]:
    """The stages in another account whose drift check runs there (instance-backed, capture on)."""
    return frozenset(
        stage.name
        for stage in settings.endpoints
        if stage.name in settings.cross_account_stages and monitored(stage)
    )


def stage_synthesizer(shared: SharedResources) -> cdk.IStackSynthesizer:
    """A stack in a stage account deploys through that account's CDK bootstrap (its qualifier)."""
    return cdk.DefaultStackSynthesizer(qualifier=shared.accounts.bootstrap_qualifier)


def stage_account(
    app: cdk.App, settings: EnvironmentConfig, shared: SharedResources, *, stage: str, account: str
) -> StageAccount:
    """``stage``'s base and network stacks in ``account`` (the tooling account's region), and the
    shared resources its endpoint stack uses there (key, capture bucket, network, alert topic).

    Raises:
        ValueError: the tooling account is not named, or the network config is an existing VPC
            (the tooling account's: the stage account's network is created from the same config).
    """
    prefix, tooling = shared.prefix, shared.accounts.tooling
    if tooling is None:  # config refuses this: every cross-account grant names both sides
        raise ValueError(f"environments.{settings.name}.account is required for a stage in another account")
    if settings.network.mode == "existing":
        raise ValueError(
            f"environments.{settings.name}.network.mode: 'existing' names a VPC of the tooling account; "
            f"endpoints.{stage} in account {account} needs a network of its own there: use mode 'create' "
            "(an existing VPC in a stage account cannot be configured yet)"
        )
    env = cdk.Environment(account=account, region=settings.region)
    base = StageBaseStack(
        app,
        stage_stack_name(prefix, stage, "base"),
        props=StageBaseProps(
            prefix=prefix,
            stage=stage,
            tooling_account=tooling,
            organization_id=settings.organization_id,
            retention=settings.retention,
            emails=settings.monitoring.notification_emails,
            drift_checked=stage in drift_checked_stages(settings),
        ),
        env=env,
        synthesizer=stage_synthesizer(shared),
        description=f"{prefix}: the {stage} endpoint's key, capture bucket, alerts and smoke-test role",
    )
    stage_shared = dataclasses.replace(shared, key=base.key, artifact_bucket=base.capture_bucket)
    network = NetworkStack(
        app,
        stage_stack_name(prefix, stage, "network"),
        config=settings.network,
        shared=stage_shared,
        model_artifact_account=tooling,
        env=env,
        synthesizer=stage_synthesizer(shared),
        description=f"{prefix}: the {stage} endpoint's private network",
    )
    stage_shared = (
        stage_shared.with_network(network.network).with_alert_topic(base.topic).with_forwarded_alarms()
    )
    monitoring = _monitoring(app, settings, stage_shared, stage=stage, tooling=tooling, env=env)
    return StageAccount(base=base, network=network, shared=stage_shared, env=env, monitoring=monitoring)


def _monitoring(
    app: cdk.App,
    settings: EnvironmentConfig,
    stage_shared: SharedResources,
    *,
    stage: str,
    tooling: str,
    env: cdk.Environment,
) -> StageMonitoringStack | None:
    """``<prefix>-<stage>-monitoring`` in the stage's account, when the stage is drift-checked."""
    if stage not in drift_checked_stages(settings):
        return None
    prefix = stage_shared.prefix
    (config,) = [s for s in settings.endpoints if s.name == stage]
    return StageMonitoringStack(
        app,
        stage_stack_name(prefix, stage, "monitoring"),
        props=StageMonitoringProps(
            stage=config,
            config=settings.monitoring,
            tooling_account=tooling,
            max_runtime_seconds=settings.pipeline.max_runtime_seconds,
        ),
        shared=stage_shared,
        env=env,
        synthesizer=stage_synthesizer(stage_shared),
        description=f"{prefix}: the {stage} endpoint's drift check",
    )
