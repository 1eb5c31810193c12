"""An endpoint stage in another account: its stacks there, before its endpoint stack.

For each stage whose ``endpoints.<stage>.account`` is not the tooling account,
:func:`stacks.application.build_platform` creates, in that account and the tooling account's
region, ``<prefix>-<stage>-base`` (:class:`stacks.stage_base_stack.StageBaseStack`: key, capture
bucket, alert topic, smoke-test role) and ``<prefix>-<stage>-network`` (the same
:class:`stacks.network_stack.NetworkStack` and network config as the tooling side, whose S3 gateway
also admits the tooling account's model artifacts). They exist whether or not a version is
approved: they are deployed once, by hand, before the deploy pipeline ships the first version
(it deploys the endpoint stack alone). The endpoint stack ``<prefix>-endpoint-<stage>`` then
goes into that account too, using them (:attr:`StageAccount.shared`).

Every stack in a stage account is synthesized for that account's CDK bootstrap, qualified by
``bootstrapQualifier`` (``cdk bootstrap aws://<account>/<region> --trust <tooling account>
--qualifier <qualifier>``): its template asks for ``/cdk-bootstrap/<qualifier>/version`` and
its deployment assumes ``cdk-<qualifier>-deploy-role-<account>-<region>``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import aws_cdk as cdk

from contracts.config import EnvironmentConfig
from contracts.names import stage_stack_name
from stacks.common.shared import SharedResources
from stacks.network_stack import NetworkStack
from stacks.stage_base_stack import StageBaseProps, StageBaseStack


@dataclass(frozen=True, kw_only=True)
class StageAccount:
    """A stage's base and network stacks in its own account, and what its endpoint stack uses there."""

    base: StageBaseStack
    network: NetworkStack
    #: The tooling side's shared resources with the stage's key, capture bucket, network and topic.
    shared: SharedResources
    env: cdk.Environment


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
    stage_shared = stage_shared.with_network(network.network).with_alert_topic(base.topic)
    return StageAccount(base=base, network=network, shared=stage_shared, env=env)
