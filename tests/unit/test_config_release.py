"""Delivery, endpoint-stage and monitoring config, and the approved-model file it reads."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contracts.approved_model import ApprovedModel, ApprovedModelError
from contracts.config import ConfigError, load_config

CONTEXT = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]
ARN = "arn:aws:sagemaker:eu-west-1:111122223333:model-package/mlops-demo-dev-models/4"
MODEL = ApprovedModel(
    model_package_arn=ARN,
    model_package_group="mlops-demo-dev-models",
    version=4,
    image_uri="141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5",
    model_data_url="s3://bucket/pipeline-runs/e/model.tar.gz",
    environment={"SAGEMAKER_PROGRAM": "inference.py"},
    baseline_statistics_uri="s3://bucket/pipeline-runs/e/statistics.json",
)


def _context(edit: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    context = copy.deepcopy({k: CONTEXT[k] for k in ("env", "project", "environments")})
    if edit is not None:
        edit(context)
    return context


def _stage(name: str, settings: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def edit(context: dict[str, Any]) -> None:
        context["environments"]["dev"]["endpoints"][name] = settings

    return edit


def test_cdk_json_stages_load_in_rollout_order() -> None:
    env = load_config(_context(), "dev").env
    assert [s.name for s in env.endpoints] == ["staging", "prod"]
    staging, prod = env.endpoints
    assert staging.serverless is not None
    assert staging.data_capture_percent == 0
    assert staging.rollout.mode == "all_at_once"
    assert prod.is_production
    assert prod.instance_count >= 2
    assert prod.autoscaling is not None
    assert prod.rollout.mode == "canary"
    assert prod.data_capture_percent > 0
    assert env.delivery.source.connection_arn is None  # S3 source fallback by default
    assert env.delivery.source.file_paths == ("ml_code/**",)


def test_idle_alarm_days_default_by_what_idling_costs() -> None:
    # GIVEN cdk.json's stages (staging serverless, prod on instances), without idleAlarmDays
    env = load_config(_context(), "dev").env
    # THEN instances (billed every hour) alarm after a week, serverless (billed per request) never
    assert env.stage("prod").idle_alarm_days == 7
    assert env.stage("staging").idle_alarm_days == 0
    # WHEN staging serves on instances, or a stage sets its own (0 = off)
    on_instances = load_config(_context(_stage("staging", {"instanceType": "ml.m5.large"})), "dev").env
    assert on_instances.stage("staging").idle_alarm_days == 7
    configured = _stage("staging", {"serverless": {}, "idleAlarmDays": 3})
    assert load_config(_context(configured), "dev").env.stage("staging").idle_alarm_days == 3
    off = _stage("prod", {"instanceCount": 2, "idleAlarmDays": 0})
    assert load_config(_context(off), "dev").env.stage("prod").idle_alarm_days == 0


def test_no_model_file_means_no_approved_model(tmp_path: Path) -> None:
    env = load_config(_context(), "dev", project_root=tmp_path).env
    assert all(stage.approved_model is None for stage in env.endpoints)


def test_model_file_is_read_from_the_project_root(tmp_path: Path) -> None:
    MODEL.write(tmp_path / ".build/release/dev-prod.json")
    env = load_config(_context(), "dev", project_root=tmp_path).env
    assert env.stage("prod").approved_model == MODEL
    assert env.stage("staging").approved_model is None


def test_a_bad_model_file_names_the_key_and_the_field(tmp_path: Path) -> None:
    data = json.loads(MODEL.to_json())
    data["version"] = 5  # does not match the ARN's /4
    path = tmp_path / ".build/release/dev-prod.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=r"environments\.dev\.endpoints\.prod\.modelFile.*'version'"):
        load_config(_context(), "dev", project_root=tmp_path)


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (_stage("prod", {"instanceCount": 1}), "endpoints.prod.instanceCount"),
        (_stage("prod", {"serverless": {}}), "endpoints.prod.serverless"),
        (
            _stage("staging", {"serverless": {}, "dataCapturePercent": 10}),
            "endpoints.staging.dataCapturePercent",
        ),
        (
            _stage("staging", {"serverless": {}, "rollout": {"mode": "canary"}}),
            "endpoints.staging.rollout.mode",
        ),
        (
            _stage("staging", {"serverless": {"memorySizeMb": 1500}}),
            "endpoints.staging.serverless.memorySizeMb",
        ),
        (_stage("prod", {"autoscaling": {"minCapacity": 1}}), "endpoints.prod.autoscaling.minCapacity"),
        (_stage("prod", {"instanceCount": 3, "autoscaling": {"maxCapacity": 2}}), "autoscaling.minCapacity"),
        (_stage("prod", {"rollout": {"mode": "rolling"}}), "endpoints.prod.rollout.mode"),
        (_stage("prod", {"modelFile": "../outside.json"}), "endpoints.prod.modelFile"),
        (_stage("prod", {"dataCapture": 5}), "endpoints.prod.dataCapture"),
        (_stage("prod", {"idleAlarmDays": 8}), "endpoints.prod.idleAlarmDays"),  # CloudWatch: <= 7 days
        (_stage("staging", {"idleAlarmDays": -1}), "endpoints.staging.idleAlarmDays"),
        (_stage("prod", {"idleAlarmDays": "7"}), "endpoints.prod.idleAlarmDays"),
        (lambda c: c["environments"]["dev"]["endpoints"].update(canary={}), "endpoints.canary"),
        (
            lambda c: c["environments"]["dev"]["delivery"]["source"].update(connectionArn="arn:aws:s3:::x"),
            "delivery.source.connectionArn",
        ),
        (
            lambda c: c["environments"]["dev"]["delivery"]["source"].update(
                connectionArn="arn:aws:codeconnections:eu-west-1:111122223333:connection/abc-123"
            ),
            "delivery.source.repository",
        ),
        (lambda c: c["environments"]["dev"]["delivery"].update(retrainSchedule="weekly"), "retrainSchedule"),
        (
            lambda c: c["environments"]["dev"]["monitoring"].update(notificationEmails=["nope"]),
            "notificationEmails[0]",
        ),
        (
            lambda c: c["environments"]["dev"]["monitoring"].update(driftThreshold=-1),
            "monitoring.driftThreshold",
        ),
        (
            lambda c: c["environments"]["dev"]["monitoring"].update(featureThresholds={"tenure": "high"}),
            "monitoring.featureThresholds.tenure",
        ),
    ],
)
def test_invalid_settings_name_their_key(edit: Callable[[dict[str, Any]], None], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.").replace("[", r"\[").replace("]", r"\]")):
        load_config(_context(edit), "dev")


def test_a_connection_source_loads_with_its_repository() -> None:
    def edit(c: dict[str, Any]) -> None:
        c["environments"]["dev"]["delivery"]["source"].update(
            connectionArn="arn:aws:codeconnections:eu-west-1:111122223333:connection/abc-123",
            repository="acme/churn-model",
            branch="release",
        )

    source = load_config(_context(edit), "dev").env.delivery.source
    assert source.repository == "acme/churn-model"
    assert source.branch == "release"


def test_approved_model_round_trips_and_is_byte_stable() -> None:
    again = ApprovedModel.from_mapping(json.loads(MODEL.to_json()))
    assert again == MODEL
    assert again.to_json() == MODEL.to_json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"model_package_arn": "arn:aws:sagemaker:eu-west-1:1:model-package/g"}, "model_package_arn"),
        ({"schema_version": 2}, "schema_version"),
        ({"model_data_url": "https://x/model.tar.gz"}, "model_data_url"),
        ({"smoke_samples_uri": "file:///tmp/x"}, "smoke_samples_uri"),
        ({"environment": {"A": 1}}, "environment"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_approved_model_rejects_bad_fields(change: dict[str, Any], field: str) -> None:
    data = {**json.loads(MODEL.to_json()), **change}
    with pytest.raises(ApprovedModelError, match=field):
        ApprovedModel.from_mapping(data, "f.json")
