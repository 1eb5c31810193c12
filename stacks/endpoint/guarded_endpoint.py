"""The endpoint of one stage, with deployment guardrails on every update.

A new model version is a new endpoint config; CloudFormation *updates* the endpoint to it, and
SageMaker runs that update as a blue/green deployment: it provisions the new (green) fleet, shifts
traffic by the stage's rollout (canary, linear or all at once), bakes ``wait_minutes`` after each
shift while watching the rollback alarms, and rolls back to the old (blue) fleet if one fires.
Serverless stages shift all at once (SageMaker's only mode for them), still with auto-rollback.
So does an update to a config with a shadow variant: its production model is the one already
serving (only the shadow is new), so a canary would compare that model with itself
(:mod:`stacks.endpoint.shadow`). Async endpoints take the stage's rollout like real-time ones
(SageMaker's deployment guardrails cover both).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from contracts.config import RolloutConfig, StageConfig

#: Pinned logical ID: the endpoint's name is fixed, so a new ID would make CloudFormation create
#: a second endpoint under the same name (which fails) instead of updating this one.
LOGICAL_ID: Final = "Endpoint"
#: Time allowed for SageMaker to provision and health-check the green fleet.
PROVISIONING_SECONDS: Final = 1800
#: SageMaker's bounds on MaximumExecutionTimeoutInSeconds.
MAX_EXECUTION_SECONDS: Final = 28800
#: SageMaker accepts linear steps of 10-50% of the variant's capacity (canary: up to 50%).
MIN_LINEAR_STEP_PERCENT: Final = 10


@dataclass(frozen=True, kw_only=True)
class GuardedEndpointProps:
    """The endpoint's fixed name, the config to serve, the rollout and the rollback alarms."""

    endpoint_name: str
    endpoint_config_name: str
    stage: StageConfig
    alarm_names: Sequence[str]
    #: The config serves a shadow variant beside the (unchanged) production model.
    shadow: bool = False


class GuardedEndpoint(Construct):
    """``endpoint``: a ``CfnEndpoint`` whose updates are blue/green with automatic rollback.

    Raises:
        ValueError: a rollout SageMaker would reject (see :func:`deployment_config`).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: GuardedEndpointProps) -> None:
        super().__init__(scope, construct_id)
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Resource",
            endpoint_name=props.endpoint_name,
            endpoint_config_name=props.endpoint_config_name,
            deployment_config=deployment_config(props.stage, props.alarm_names, shadow=props.shadow),
        )
        self.endpoint.override_logical_id(LOGICAL_ID)
        # Stateless: the model and its data live in the registry and the artifact bucket.
        self.endpoint.apply_removal_policy(cdk.RemovalPolicy.DESTROY)


def traffic_shifts(rollout: RolloutConfig) -> int:
    """How many times traffic moves to the green fleet (each followed by a bake)."""
    if rollout.mode == "linear":
        return -(-100 // rollout.step_percent)
    return 2 if rollout.mode == "canary" else 1


def execution_timeout_seconds(rollout: RolloutConfig) -> int:
    """Provisioning, every bake and the termination wait: SageMaker requires the timeout to exceed
    the waits, and a deployment still running at the timeout is rolled back.

    Raises:
        ValueError: the rollout needs longer than SageMaker's 8-hour maximum.
    """
    seconds = (
        PROVISIONING_SECONDS
        + traffic_shifts(rollout) * rollout.wait_minutes * 60
        + rollout.termination_wait_minutes * 60
    )
    if seconds > MAX_EXECUTION_SECONDS:
        raise ValueError(
            f"rollout {rollout.mode} with {rollout.step_percent}% steps, {rollout.wait_minutes} min waits "
            f"and {rollout.termination_wait_minutes} min termination wait needs {seconds // 60} min; "
            f"SageMaker allows at most {MAX_EXECUTION_SECONDS // 60}: use larger steps or shorter waits"
        )
    return seconds


def deployment_config(
    stage: StageConfig, alarm_names: Sequence[str], *, shadow: bool = False
) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:
    """Blue/green update policy from ``stage.rollout`` (all at once with a ``shadow`` variant, same
    waits), rolling back on ``alarm_names``.

    Raises:
        ValueError: no alarms; a serverless stage that is not all-at-once; a linear step under
            10%; a rollout longer than SageMaker's maximum.
    """
    rollout = dataclasses.replace(stage.rollout, mode="all_at_once") if shadow else stage.rollout
    if not 1 <= len(alarm_names) <= 10:
        raise ValueError(f"endpoint stage {stage.name!r}: auto-rollback needs 1 to 10 alarms")
    if stage.serverless is not None and rollout.mode != "all_at_once":
        raise ValueError(f"endpoint stage {stage.name!r}: serverless endpoints only update all_at_once")
    if rollout.mode == "linear" and rollout.step_percent < MIN_LINEAR_STEP_PERCENT:
        raise ValueError(
            f"endpoint stage {stage.name!r}: linear steps must be {MIN_LINEAR_STEP_PERCENT}-50% of "
            f"capacity, got {rollout.step_percent}%"
        )
    step = sagemaker.CfnEndpoint.CapacitySizeProperty(type="CAPACITY_PERCENT", value=rollout.step_percent)
    routing = sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
        type=rollout.mode.upper(),
        # Required for every type (botocore's model); for all-at-once it is the baking period.
        wait_interval_in_seconds=rollout.wait_minutes * 60,
        canary_size=step if rollout.mode == "canary" else None,
        linear_step_size=step if rollout.mode == "linear" else None,
    )
    return sagemaker.CfnEndpoint.DeploymentConfigProperty(
        blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
            traffic_routing_configuration=routing,
            termination_wait_in_seconds=rollout.termination_wait_minutes * 60,
            maximum_execution_timeout_in_seconds=execution_timeout_seconds(rollout),
        ),
        auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
            alarms=[sagemaker.CfnEndpoint.AlarmProperty(alarm_name=name) for name in alarm_names]
        ),
    )
