"""Endpoint rollout, image and serving-config rules that need no synth: what SageMaker would reject
fails early, with a message naming the problem, and every accepted rollout fits SageMaker's limits."""

from __future__ import annotations

import dataclasses
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.aws_sagemaker import CfnEndpoint, CfnModel
from platform_synth import cdk_context

from contracts.config import RolloutConfig, StageConfig, load_config
from stacks.endpoint.execution_role import repository_arn
from stacks.endpoint.guarded_endpoint import (
    MAX_EXECUTION_SECONDS,
    deployment_config,
    execution_timeout_seconds,
    traffic_shifts,
)
from stacks.endpoint.serving_config import ServingConfig, ServingConfigProps

ALARMS = ["demo-5xx", "demo-model-latency"]


@pytest.fixture(scope="module")
def prod() -> StageConfig:
    return load_config(cdk_context()).env.stage("prod")


def _with_rollout(stage: StageConfig, **changes: object) -> StageConfig:
    return dataclasses.replace(stage, rollout=dataclasses.replace(stage.rollout, **changes))  # type: ignore[arg-type]


def test_linear_rollout_steps_by_capacity_percent(prod: StageConfig) -> None:
    # GIVEN prod rolled out linearly in 25% steps
    stage = _with_rollout(prod, mode="linear", step_percent=25)
    # WHEN the deployment config is built
    config = deployment_config(stage, ALARMS)
    # THEN four steps of 25%, no canary, rollback on both alarms
    policy = config.blue_green_update_policy
    assert isinstance(policy, CfnEndpoint.BlueGreenUpdatePolicyProperty)
    routing = policy.traffic_routing_configuration
    assert isinstance(routing, CfnEndpoint.TrafficRoutingConfigProperty)
    assert routing.type == "LINEAR"
    assert isinstance(routing.linear_step_size, CfnEndpoint.CapacitySizeProperty)
    assert (routing.linear_step_size.type, routing.linear_step_size.value) == ("CAPACITY_PERCENT", 25)
    assert routing.canary_size is None
    assert traffic_shifts(stage.rollout) == 4
    rollback = config.auto_rollback_configuration
    assert isinstance(rollback, CfnEndpoint.AutoRollbackConfigProperty)
    assert isinstance(rollback.alarms, list)
    assert [a.alarm_name for a in rollback.alarms if isinstance(a, CfnEndpoint.AlarmProperty)] == ALARMS


@pytest.mark.parametrize(
    ("mode", "step", "shifts"),
    [("all_at_once", 10, 1), ("canary", 10, 2), ("linear", 10, 10), ("linear", 30, 4), ("linear", 50, 2)],
)
def test_timeout_covers_every_bake_and_the_termination_wait(mode: str, step: int, shifts: int) -> None:
    rollout = RolloutConfig(mode=mode, step_percent=step, wait_minutes=5, termination_wait_minutes=10)  # type: ignore[arg-type]
    assert traffic_shifts(rollout) == shifts
    timeout = execution_timeout_seconds(rollout)
    assert shifts * 5 * 60 + 10 * 60 < timeout <= MAX_EXECUTION_SECONDS


def test_a_rollout_longer_than_sagemaker_allows_is_refused() -> None:
    rollout = RolloutConfig(mode="linear", step_percent=10, wait_minutes=60, termination_wait_minutes=0)
    with pytest.raises(ValueError, match="needs 630 min; SageMaker allows at most 480"):
        execution_timeout_seconds(rollout)


def test_linear_steps_under_ten_percent_are_refused(prod: StageConfig) -> None:
    with pytest.raises(ValueError, match="'prod': linear steps must be 10-50% of capacity, got 5%"):
        deployment_config(_with_rollout(prod, mode="linear", step_percent=5), ALARMS)


def test_serverless_stage_only_updates_all_at_once() -> None:
    staging = load_config(cdk_context()).env.stage("staging")
    assert staging.serverless is not None
    deployment_config(staging, ALARMS)  # the configured all-at-once is accepted
    with pytest.raises(ValueError, match="'staging': serverless endpoints only update all_at_once"):
        deployment_config(_with_rollout(staging, mode="canary"), ALARMS)


def test_rollback_needs_alarms(prod: StageConfig) -> None:
    with pytest.raises(ValueError, match="auto-rollback needs 1 to 10 alarms"):
        deployment_config(prod, [])


def test_repository_arn_comes_from_the_image_uri() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    arn = stack.resolve(
        repository_arn(stack, "763104351884.dkr.ecr.us-east-1.amazonaws.com/team/xgb@sha256:ab")
    )
    assert arn["Fn::Join"][1][-1] == ":ecr:us-east-1:763104351884:repository/team/xgb"
    with pytest.raises(ValueError, match=re.escape("'public.ecr.aws/x/y:1' is not an ECR image URI")):
        repository_arn(stack, "public.ecr.aws/x/y:1")


def test_serverless_config_refuses_data_capture() -> None:
    # GIVEN the serverless staging stage with capture switched on (the config loader refuses this too)
    staging = dataclasses.replace(load_config(cdk_context()).env.stage("staging"), data_capture_percent=10)
    stack = cdk.Stack(cdk.App(), "S")
    props = ServingConfigProps(
        endpoint_name="demo-staging",
        version=1,
        stage=staging,
        model=CfnModel(stack, "Model", execution_role_arn="arn:aws:iam::111122223333:role/r", model_name="m"),
        key=kms.Key(stack, "Key"),
        artifact_bucket=s3.Bucket(stack, "Bucket"),
    )
    # THEN the endpoint config is not built
    with pytest.raises(ValueError, match="'staging': serverless endpoints cannot capture data"):
        ServingConfig(stack, "Config", props=props)
