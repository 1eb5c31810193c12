"""Monitoring: drift pipeline, schedule per monitored stage, alarms → retraining, dashboards, alerts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from platform_synth import SynthesizedPlatform, resources, synth_platform

from emulator.definition import flatten
from ml_code import contract


def _props(template: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in resources(template, resource_type).values()]


def test_drift_pipeline_exists_with_its_lambda_step(synthesized: SynthesizedPlatform) -> None:
    (pipeline,) = _props(synthesized.raw["monitoring"], "AWS::SageMaker::Pipeline")
    assert pipeline["PipelineName"] == "mlops-demo-dev-drift-check"
    body, variables = pipeline["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Sub"]
    steps = {e.name: e.step for e in flatten(json.loads(body)["Steps"])}
    assert steps["PublishDriftMetrics"]["FunctionArn"] == "${PublisherArn}"
    assert "Fn::GetAtt" in variables["PublisherArn"]


def test_only_the_capturing_stage_is_scheduled(synthesized: SynthesizedPlatform) -> None:
    (schedule,) = _props(synthesized.raw["endpoint-prod"], "AWS::Scheduler::Schedule")
    assert not resources(synthesized.raw["endpoint-staging"], "AWS::Scheduler::Schedule")  # serverless
    target = schedule["Target"]
    assert "pipeline/mlops-demo-dev-drift-check" in json.dumps(target["Arn"])
    params = {p["Name"]: p["Value"] for p in target["SageMakerPipelineParameters"]["PipelineParameterList"]}
    assert params["EndpointName"] == "mlops-demo-dev-prod"
    assert params["BaselineUri"].endswith("/preprocess/baseline/")
    assert "data-capture/mlops-demo-dev-prod/" in json.dumps(params["CaptureUri"])
    # the role's only permissions (the Scheduler L2's grants): start the check, decrypt, dead-letter
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    policies = [
        p["Properties"]
        for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
        for p in resources(synthesized.raw["endpoint-prod"], kind).values()
        if {"Ref": role_id} in p["Properties"].get("Roles", [])
    ]
    statements = {s["Action"]: s for p in policies for s in p["PolicyDocument"]["Statement"]}
    assert set(statements) == {"sagemaker:StartPipelineExecution", "kms:Decrypt", "sqs:SendMessage"}
    assert statements["sagemaker:StartPipelineExecution"]["Resource"] == target["Arn"]
    assert "DataKeyArn" in json.dumps(statements["kms:Decrypt"]["Resource"])
    # a named schedule with its input encrypted; only this account's default schedule group may
    # assume the role (Scheduler's aws:SourceArn is the group's ARN, never a schedule's)
    assert schedule["Name"] == "mlops-demo-dev-prod-drift-check"
    assert "DataKeyArn" in json.dumps(schedule["KmsKeyArn"])
    roles = resources(synthesized.raw["endpoint-prod"], "AWS::IAM::Role")
    (role,) = [r["Properties"] for k, r in roles.items() if k.startswith("DriftSchedule")]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert json.dumps(trust["Condition"]["StringEquals"]["aws:SourceArn"]).endswith(
        ':schedule-group/default"]]}'
    )


def _drift_alarms(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        a
        for a in _props(template, "AWS::CloudWatch::Alarm")
        if a.get("Namespace") == contract.DRIFT_NAMESPACE
    ]


def test_drift_alarm_is_enabled_and_feeds_the_retrain_rule(synthesized: SynthesizedPlatform) -> None:
    template = synthesized.raw["monitoring"]
    (alarm,) = _drift_alarms(template)
    assert alarm["AlarmName"] == "mlops-demo-dev-prod-drift"
    assert alarm["ActionsEnabled"] is True
    assert alarm["Namespace"] == contract.DRIFT_NAMESPACE
    assert alarm["MetricName"] == contract.DRIFT_METRIC_VIOLATIONS
    assert alarm["AlarmActions"]
    rules = {r["Description"]: r for r in _props(template, "AWS::Events::Rule")}
    retrain = next(r for d, r in rules.items() if "drift alarm" in d)
    assert retrain["EventPattern"]["detail"] == {
        "alarmName": ["mlops-demo-dev-prod-drift"],
        "state": {"value": ["ALARM"]},
    }
    (target,) = retrain["Targets"]
    trigger_id = next(
        k for k in resources(template, "AWS::Lambda::Function") if k.startswith("RetrainTrigger")
    )
    assert trigger_id in json.dumps(target["Arn"])


def test_retrain_trigger_runs_one_at_a_time_with_the_interval(synthesized: SynthesizedPlatform) -> None:
    functions = resources(synthesized.raw["monitoring"], "AWS::Lambda::Function")
    trigger = next(v["Properties"] for k, v in functions.items() if k.startswith("RetrainTrigger"))
    assert trigger["ReservedConcurrentExecutions"] == 1
    env = trigger["Environment"]["Variables"]
    assert env["PIPELINE_NAME"] == "mlops-demo-dev-training"
    assert env["MIN_INTERVAL_SECONDS"] == str(24 * 3600)
    assert "KmsKeyArn" in trigger


def test_failed_runs_and_pending_approvals_notify_the_topic(synthesized: SynthesizedPlatform) -> None:
    rules = _props(synthesized.raw["monitoring"], "AWS::Events::Rule")
    patterns = [r["EventPattern"] for r in rules]
    assert any(p["detail"].get("currentPipelineExecutionStatus") == ["Failed"] for p in patterns)
    assert any(p["detail"].get("ModelApprovalStatus") == ["PendingManualApproval"] for p in patterns)
    (topic,) = _props(synthesized.raw["monitoring"], "AWS::SNS::Topic")
    assert "KmsMasterKeyId" in topic


def test_a_dashboard_per_stage(synthesized: SynthesizedPlatform) -> None:
    dashboards = _props(synthesized.raw["monitoring"], "AWS::CloudWatch::Dashboard")
    names = sorted(d["DashboardName"] for d in dashboards)
    assert names == ["mlops-demo-dev-prod", "mlops-demo-dev-staging"]
    body = json.dumps(dashboards)
    for metric in (
        "Invocation5XXErrors",
        "ModelLatency",
        contract.DRIFT_METRIC_VIOLATIONS,
        "ExecutionFailed",
    ):
        assert metric in body


@pytest.fixture(scope="module")
def staging_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synth_platform(tmp_path_factory.mktemp("staging-env"), env="staging").raw


def test_emails_from_config_subscribe_to_the_topic(staging_env: dict[str, Any]) -> None:
    (subscription,) = _props(staging_env["monitoring"], "AWS::SNS::Subscription")
    assert subscription["Protocol"] == "email"
    assert subscription["Endpoint"] == "ml-platform@example.com"
    # the staging environment's staging stage runs on an instance and captures: both are monitored
    assert len(_drift_alarms(staging_env["monitoring"])) == 2


def _policy_of(template: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    (policy,) = [p for k, p in resources(template, "AWS::IAM::ManagedPolicy").items() if k.startswith(prefix)]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_capture_selector_may_list_capture_and_write_manifests_only(synthesized: SynthesizedPlatform) -> None:
    # GIVEN the drift pipeline's capture-selecting function
    template = synthesized.raw["monitoring"]
    functions = resources(template, "AWS::Lambda::Function")
    (selector_id,) = [
        k for k, v in functions.items() if v["Properties"]["Handler"] == "select_capture.handler"
    ]
    # THEN its role lists only under data-capture/, writes only drift-checks/*, encrypts with the data key
    statements = {s["Sid"]: s for s in _policy_of(template, "DriftCheckSelectCapturePolicy")}
    assert sorted(statements) == ["EncryptManifest", "ListCapture", "WriteManifest", "WriteOwnLogs"]
    listing = statements["ListCapture"]
    assert listing["Action"] == "s3:ListBucket"
    assert listing["Condition"] == {"StringLike": {"s3:prefix": [f"{contract.CAPTURE_PREFIX}/*"]}}
    assert "ArtifactBucketArn" in json.dumps(listing["Resource"])
    assert statements["WriteManifest"]["Action"] == "s3:PutObject"
    assert json.dumps(statements["WriteManifest"]["Resource"]).endswith('"/drift-checks/*"]]}')
    assert statements["EncryptManifest"]["Action"] == "kms:GenerateDataKey"
    assert "DataKeyArn" in json.dumps(statements["EncryptManifest"]["Resource"])
    # ... and the pipeline's role may invoke it, and its definition names it
    invoke = {s["Sid"]: s for s in _policy_of(template, "DriftCheckPolicy")}["SelectCaptureStep"]
    assert (invoke["Action"], invoke["Resource"]) == (
        "lambda:InvokeFunction",
        {"Fn::GetAtt": [selector_id, "Arn"]},
    )
    (pipeline,) = _props(template, "AWS::SageMaker::Pipeline")
    body, variables = pipeline["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Sub"]
    (select,) = [s for s in json.loads(body)["Steps"] if s["Name"] == "SelectCapture"]
    assert select["FunctionArn"] == "${SelectorArn}"
    assert variables["SelectorArn"] == {"Fn::GetAtt": [selector_id, "Arn"]}
