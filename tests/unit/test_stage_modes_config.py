"""A stage's serving mode in config: ``shadow`` (prod) and ``async``, their defaults and rules;
and the approved-model file's ``shadow`` challenger."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from contracts.approved_model import ApprovedModel, ApprovedModelError
from contracts.config import ConfigError, StageConfig, load_config

CONTEXT = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]
GROUP = "mlops-demo-dev-models"
ARN = f"arn:aws:sagemaker:eu-west-1:111122223333:model-package/{GROUP}/"


def _stages(
    staging: dict[str, Any] | None = None, prod: dict[str, Any] | None = None
) -> tuple[StageConfig, ...]:
    context = copy.deepcopy({k: CONTEXT[k] for k in ("env", "project", "environments")})
    endpoints = context["environments"]["dev"]["endpoints"]
    for name, edit in (("staging", staging), ("prod", prod)):
        if edit is not None:
            # dev's prod shadow-tests, which an async stage cannot
            dropped = {"shadow": None} if "async" in edit else {}
            merged = {**endpoints[name], **dropped, **edit}
            endpoints[name] = {key: value for key, value in merged.items() if value is not None}
    return tuple(load_config(context, "dev").env.endpoints)


def _error(staging: dict[str, Any] | None = None, prod: dict[str, Any] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        _stages(staging, prod)
    return str(caught.value)


def test_no_mode_sections_by_default() -> None:
    staging, prod = _stages(prod={"shadow": None})
    for stage in (staging, prod):
        assert stage.shadow is None
        assert stage.async_inference is None


def test_the_shipped_dev_shadow_tests_prod_only() -> None:
    staging, prod = _stages()
    assert staging.shadow is None
    assert prod.shadow is not None
    assert (prod.shadow.window_minutes, prod.shadow.min_requests) == (60, 100)


def test_shadow_defaults_take_the_stage_instance_type() -> None:
    _, prod = _stages(prod={"instanceType": "ml.m5.xlarge", "shadow": {}})
    assert prod.shadow is not None
    assert prod.shadow.instance_type == "ml.m5.xlarge"
    assert (prod.shadow.window_minutes, prod.shadow.sampling_percent) == (60, 100)
    assert (prod.shadow.min_requests, prod.shadow.instance_count) == (100, 1)


def test_shadow_settings_load() -> None:
    settings = {"windowMinutes": 30, "samplingPercent": 50, "minRequests": 10, "instanceType": "ml.c5.large"}
    _, prod = _stages(prod={"shadow": {**settings, "instanceCount": 2}})
    assert prod.shadow is not None
    assert (prod.shadow.window_minutes, prod.shadow.sampling_percent, prod.shadow.min_requests) == (
        30,
        50,
        10,
    )
    assert (prod.shadow.instance_type, prod.shadow.instance_count) == ("ml.c5.large", 2)


def test_async_defaults_scale_to_zero_without_idle_alarm() -> None:
    staging, _ = _stages(staging={"serverless": None, "async": {}})
    queued = staging.async_inference
    assert queued is not None
    assert (queued.min_capacity, queued.max_capacity) == (0, 2)
    assert (queued.max_concurrent_invocations_per_instance, queued.target_backlog_per_instance) == (4, 5)
    assert staging.idle_alarm_days == 0
    assert staging.rollout.mode == "canary"  # deployment guardrails cover async endpoints


def test_async_max_capacity_defaults_to_the_instance_count_when_larger() -> None:
    _, prod = _stages(prod={"autoscaling": None, "instanceCount": 3, "async": {}})
    assert prod.async_inference is not None
    assert prod.async_inference.max_capacity == 3
    assert prod.async_inference.min_capacity == 0  # prod may rest at zero: requests queue, none is lost


@pytest.mark.parametrize(
    ("staging", "prod", "key"),
    [
        ({"shadow": {}}, None, "endpoints.staging.shadow"),
        (None, {"shadow": {}, "dataCapturePercent": 0}, "endpoints.prod.dataCapturePercent"),
        (None, {"shadow": {}, "autoscaling": None, "async": {}}, "endpoints.prod.shadow"),
        (None, {"shadow": {"samplingPercent": 0}}, "endpoints.prod.shadow.samplingPercent"),
        (None, {"shadow": {"windowMinutes": 4}}, "endpoints.prod.shadow.windowMinutes"),
        (None, {"shadow": {"instanceCount": 11}}, "endpoints.prod.shadow.instanceCount"),
        (None, {"shadow": {"colour": "red"}}, "endpoints.prod.shadow.colour"),
        ({"async": {}}, None, "endpoints.staging.async"),  # staging is serverless in cdk.json
        (None, {"async": {}}, "endpoints.prod.autoscaling"),  # prod autoscales on invocations
        (None, {"autoscaling": None, "instanceCount": 1, "async": {}}, "endpoints.prod.instanceCount"),
        (None, {"autoscaling": None, "async": {"maxCapacity": 1}}, "endpoints.prod.async.maxCapacity"),
        (None, {"autoscaling": None, "async": {"minCapacity": 3}}, "endpoints.prod.async.maxCapacity"),
        (None, {"autoscaling": None, "async": {}, "idleAlarmDays": 7}, "endpoints.prod.idleAlarmDays"),
        (
            {"serverless": None, "async": {"maxConcurrentInvocationsPerInstance": 0}},
            None,
            "endpoints.staging.async.maxConcurrentInvocationsPerInstance",
        ),
        ({"serverless": None, "async": {"queue": 1}}, None, "endpoints.staging.async.queue"),
    ],
)
def test_invalid_modes_name_their_key(
    staging: dict[str, Any] | None, prod: dict[str, Any] | None, key: str
) -> None:
    assert f"context key 'environments.dev.{key}'" in _error(staging, prod)


def _model(version: int, **extra: Any) -> dict[str, Any]:
    return {
        "model_package_arn": f"{ARN}{version}",
        "model_package_group": GROUP,
        "version": version,
        "image_uri": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5",
        "model_data_url": f"s3://bucket/pipeline-runs/e{version}/model.tar.gz",
        "schema_version": 1,
        **extra,
    }


def test_a_file_without_shadow_has_no_shadow_key() -> None:
    model = ApprovedModel.from_mapping(_model(4))
    assert model.shadow is None
    assert "shadow" not in json.loads(model.to_json())


def test_a_shadow_round_trips(tmp_path: Path) -> None:
    # GIVEN prod's version 4 with version 5 as its shadow
    model = ApprovedModel.from_mapping(_model(4, shadow=_model(5)))
    # WHEN written and read back
    model.write(tmp_path / "prod.json")
    again = ApprovedModel.read(tmp_path / "prod.json")
    # THEN the same answer, the same bytes; the shadow has no shadow key of its own
    assert again == model
    assert again.shadow is not None
    assert again.shadow.version == 5
    assert again.to_json() == model.to_json()
    assert "shadow" not in json.loads(model.to_json())["shadow"]


@pytest.mark.parametrize(
    ("shadow", "message"),
    [
        (_model(4), "version 4 is already the production version"),
        (
            {
                **_model(5),
                "model_package_group": "other",
                "model_package_arn": ARN.replace(GROUP, "other") + "5",
            },
            "other is not this version's group",
        ),
        ({**_model(5), "schema_version": 2}, "shadow.schema_version"),
        ({**_model(5), "colour": "red"}, "colour"),
    ],
)
def test_a_bad_shadow_is_refused(shadow: dict[str, Any], message: str) -> None:
    with pytest.raises(ApprovedModelError, match=message):
        ApprovedModel.from_mapping(_model(4, shadow=shadow))


def test_a_shadow_cannot_have_a_shadow() -> None:
    nested = _model(5, shadow=_model(6))
    with pytest.raises(ApprovedModelError, match="cannot have a shadow of its own"):
        ApprovedModel.from_mapping(_model(4, shadow=nested))


def _multi_error(stage: str, edit: dict[str, Any]) -> str:
    """The error of ``multi`` (each stage in its own account) with ``edit`` on ``stage``."""
    context = copy.deepcopy({k: CONTEXT[k] for k in ("env", "project", "environments")})
    endpoints = context["environments"]["multi"]["endpoints"]
    endpoints[stage] = {k: v for k, v in {**endpoints[stage], **edit}.items() if v is not None}
    with pytest.raises(ConfigError) as caught:
        load_config(context, "multi")
    return str(caught.value)


def test_a_stage_in_another_account_refuses_shadow_and_async_naming_the_key() -> None:
    # A shadow there would need a second model role the tooling account's policies do not admit; an
    # async smoke test, rights its smoke role does not have. Both are refused at load, not at synth.
    shadow = _multi_error("prod", {"shadow": {}})
    assert "environments.multi.endpoints.prod.shadow" in shadow
    assert "another account" in shadow
    queued = _multi_error("prod", {"async": {}, "idleAlarmDays": 0, "autoscaling": None})
    assert "environments.multi.endpoints.prod.async" in queued
    assert "InvokeEndpointAsync" in queued


def test_a_stage_naming_the_tooling_account_itself_may_shadow() -> None:
    context = copy.deepcopy({k: CONTEXT[k] for k in ("env", "project", "environments")})
    env = context["environments"]["dev"]
    env["account"] = "111111111111"
    env["endpoints"]["prod"] = {**env["endpoints"]["prod"], "account": "111111111111", "shadow": {}}
    assert load_config(context, "dev").env.endpoints.prod.shadow is not None
