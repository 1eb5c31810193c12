"""Multi-account drift checks (issue 13 point 4, phase A): a stage in another account that captures
traffic is drift-checked there, against its version's baseline in the tooling account.

Pinned whole, so a widening fails: the check's role (fixed name, what it reads in the tooling
account and how it decrypts), the tooling account's bucket and key statements for it, the schedule
in the endpoint stack (what it starts, with which baseline and capture) and the alarm (which
topic). Requests against these policies: tests/security/test_stage_drift_attacks.py.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest
from platform_synth import APPROVED, SynthesizedPlatform, resources, synth_platform, values_of
from test_multi_account import ORG, PROD, STAGING, TOOLING, _multi_account

from contracts import layout
from ml_code import contract

PREFIX = "mlops-demo-dev"
REGION = "eu-west-1"
DRIFT_ROLE = f"arn:aws:iam::{PROD}:role/{PREFIX}-prod-drift"


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedPlatform:
    # synth_platform raises on any unacknowledged cdk-nag or own-rule finding
    return synth_platform(tmp_path_factory.mktemp("drift"), edit=_multi_account(ORG), approved=True)


def _base(output: str) -> dict[str, Any]:
    return {
        "Fn::GetStackOutput": {"StackName": f"{PREFIX}-prod-base", "Region": REGION, "OutputName": output}
    }


KEY = _base("PublishOutputFnGetAttStageKeyArn68A2C9AE")


def _under(bucket_output: str, path: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [_base(bucket_output), path]]}


def _drift_policy(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The drift-check role's managed policy statements, by Sid."""
    (policy,) = [
        p
        for p in resources(template, "AWS::IAM::ManagedPolicy").values()
        if p["Properties"]["Roles"] == [{"Ref": "DriftCheckRole"}]
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    assert len(by_sid) == len(statements)
    return by_sid


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


# ---------------------------------------------------------------------- where it runs


def test_only_a_capturing_stage_gets_a_monitoring_stack_in_its_account(staged: SynthesizedPlatform) -> None:
    manifest = json.loads((staged.outdir / "manifest.json").read_text())["artifacts"]
    # prod captures traffic; staging is serverless and captures nothing
    assert f"{PREFIX}-staging-monitoring" not in manifest
    artifact = manifest[f"{PREFIX}-prod-monitoring"]
    assert artifact["environment"] == f"aws://{PROD}/{REGION}"
    assert artifact["properties"]["assumeRoleArn"] == (
        f"arn:${{AWS::Partition}}:iam::{PROD}:role/cdk-hnb659fds-deploy-role-{PROD}-{REGION}"
    )
    # it uses the stage's own base and network (same account: stack outputs work)
    template = staged.raw["prod-monitoring"]
    referenced = {ref["StackName"] for ref in values_of(template, "Fn::GetStackOutput")}
    assert referenced == {f"{PREFIX}-prod-base", f"{PREFIX}-prod-network"}
    # the tooling account is named by the drift role's policy alone (its two statements, below)
    naming = [lid for lid, r in template["Resources"].items() if TOOLING in json.dumps(r)]
    assert [template["Resources"][lid]["Properties"].get("Roles") for lid in naming] == [
        [{"Ref": "DriftCheckRole"}]
    ]


def test_the_stage_pipeline_and_alarm_have_the_stages_names_and_pinned_ids(
    staged: SynthesizedPlatform,
) -> None:
    found = staged.raw["prod-monitoring"]["Resources"]
    assert found["DriftCheckRole"]["Type"] == "AWS::IAM::Role"
    pipeline = found["DriftCheckPipeline"]
    assert pipeline["Type"] == "AWS::SageMaker::Pipeline"
    assert pipeline["Properties"]["PipelineName"] == f"{PREFIX}-prod-drift-check"
    assert pipeline["Properties"]["RoleArn"] == {"Fn::GetAtt": ["DriftCheckRole", "Arn"]}
    alarm = found["DriftAlarm"]["Properties"]
    assert alarm["AlarmName"] == f"{PREFIX}-prod-drift"
    assert alarm["Dimensions"] == [{"Name": "EndpointName", "Value": f"{PREFIX}-prod"}]
    assert (alarm["Namespace"], alarm["MetricName"]) == (
        contract.DRIFT_NAMESPACE,
        contract.DRIFT_METRIC_VIOLATIONS,
    )
    # no action of its own: the team's topic and retraining hear of it through the tooling
    # account's bus (tests/cdk/test_stage_events.py), which an action here would duplicate
    assert "AlarmActions" not in alarm
    assert alarm["AlarmDescription"].endswith("(starts retraining, rate-capped)")


# ---------------------------------------------------------------------- the drift check's role


def _tooling_statements() -> list[dict[str, Any]]:
    return [
        {
            "Action": "s3:GetObject",
            "Condition": {"StringEquals": {"s3:ResourceAccount": TOOLING}},
            "Effect": "Allow",
            "Resource": "arn:aws:s3:::*/pipeline-runs/*/preprocess/baseline/*",
            "Sid": "ReadToolingBaselines",
        },
        {
            "Action": "kms:Decrypt",
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": f"arn:aws:kms:{REGION}:{TOOLING}:key/*",
            "Sid": "DecryptBaselinesThroughS3",
        },
    ]


def test_the_drift_role_reads_baselines_only_from_the_tooling_account(staged: SynthesizedPlatform) -> None:
    template = staged.raw["prod-monitoring"]
    role = template["Resources"]["DriftCheckRole"]["Properties"]
    # the name the tooling bucket and key policies admit through aws:PrincipalArn
    assert role["RoleName"] == f"{PREFIX}-prod-drift"
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}}
    ]
    statements = _drift_policy(template)
    assert [statements[s["Sid"]] for s in _tooling_statements()] == _tooling_statements()
    # only those two name the tooling account
    assert sorted(sid for sid, s in statements.items() if TOOLING in json.dumps(s)) == [
        "DecryptBaselinesThroughS3",
        "ReadToolingBaselines",
    ]
    # every other object it reads or writes is in the stage's capture bucket, with the stage's key
    assert statements["ReadCapture"] == {
        "Action": "s3:GetObject",
        "Effect": "Allow",
        "Resource": _under("PublishOutputFnGetAttCaptureBucketArn1B507812", "/data-capture/*"),
        "Sid": "ReadCapture",
    }
    assert statements["WriteDriftChecks"]["Resource"] == _under(
        "PublishOutputFnGetAttCaptureBucketArn1B507812", "/drift-checks/*"
    )
    assert statements["UseProjectKey"]["Resource"] == KEY
    objects = {
        sid
        for sid, s in statements.items()
        if any(a.startswith(("s3:Get", "s3:Put", "kms:")) for a in _actions(s)) and sid != "ReadCodeBundle"
    }
    assert objects == {
        "ReadCapture",
        "ReadToolingBaselines",
        "DecryptBaselinesThroughS3",
        "WriteDriftChecks",
        "UseProjectKey",
        "GrantKeyToJobVolumes",
    }
    assert "ReadBaselinesAndCapture" not in statements  # the tooling check's own-bucket read


# ---------------------------------------------------------------------- the tooling side of it


def _artifact_and_key_statements(staged: SynthesizedPlatform, sid: str) -> dict[str, Any]:
    data = staged.raw["data"]
    (bucket,) = [
        p
        for p in resources(data, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": "ArtifactBucket"}
    ]
    (key,) = resources(data, "AWS::KMS::Key").values()
    statements = [
        *bucket["Properties"]["PolicyDocument"]["Statement"],
        *key["Properties"]["KeyPolicy"]["Statement"],
    ]
    (found,) = [s for s in statements if s.get("Sid") == sid]
    return found


def test_the_tooling_bucket_admits_the_drift_role_to_baselines_only(staged: SynthesizedPlatform) -> None:
    assert _artifact_and_key_statements(staged, "StageDriftRoleProdReadBaselines") == {
        "Action": "s3:GetObject",
        "Condition": {
            "ArnEquals": {"aws:PrincipalArn": DRIFT_ROLE},
            # only baselines of versions shipped to prod (its deploy build tags them)
            "StringEquals": {"aws:PrincipalOrgID": ORG, "s3:ExistingObjectTag/mlops:released-prod": "true"},
        },
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"},
        "Resource": {
            "Fn::Join": [
                "",
                [{"Fn::GetAtt": ["ArtifactBucket", "Arn"]}, "/pipeline-runs/*/preprocess/baseline/*"],
            ]
        },
        "Sid": "StageDriftRoleProdReadBaselines",
    }
    # staging captures nothing: no drift role of its account is named anywhere
    assert f"{PREFIX}-staging-drift" not in json.dumps(staged.raw["data"])
    assert STAGING not in json.dumps(_artifact_and_key_statements(staged, "StageDriftRoleProdReadBaselines"))


def test_the_tooling_key_decrypts_for_the_drift_role_only_through_s3(staged: SynthesizedPlatform) -> None:
    assert _artifact_and_key_statements(staged, "StageDriftRolesDecryptBaselines") == {
        "Action": "kms:Decrypt",
        "Condition": {
            "ArnEquals": {"aws:PrincipalArn": [DRIFT_ROLE]},
            "StringEquals": {"aws:PrincipalOrgID": ORG, "kms:ViaService": f"s3.{REGION}.amazonaws.com"},
        },
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"},
        "Resource": "*",
        "Sid": "StageDriftRolesDecryptBaselines",
    }


def test_the_baseline_pattern_is_where_training_writes_the_baseline() -> None:
    # one spelling: the pattern the grants name, and the folder the training pipeline writes
    assert layout.BASELINE_OUTPUT in contract.PREPROCESS_OUTPUTS
    for uri in (APPROVED.baseline_statistics_uri, APPROVED.baseline_constraints_uri):
        assert uri is not None
        assert fnmatch.fnmatch(uri.removeprefix("s3://").partition("/")[2], layout.BASELINE_PATTERN)
    assert not fnmatch.fnmatch(
        APPROVED.model_data_url.removeprefix("s3://").partition("/")[2], layout.BASELINE_PATTERN
    )


# ---------------------------------------------------------------------- the schedule


def test_the_endpoint_stack_schedules_the_stages_check_against_the_tooling_baseline(
    staged: SynthesizedPlatform,
) -> None:
    template = staged.raw["endpoint-prod"]
    (schedule,) = resources(template, "AWS::Scheduler::Schedule").values()
    target = schedule["Properties"]["Target"]
    pipeline = f"arn:aws:sagemaker:{REGION}:{PROD}:pipeline/{PREFIX}-prod-drift-check"
    assert target["Arn"] == pipeline
    parameters = {
        p["Name"]: p["Value"] for p in target["SageMakerPipelineParameters"]["PipelineParameterList"]
    }
    assert parameters == {
        "EndpointName": f"{PREFIX}-prod",
        # the stage's own capture, the version's baseline folder in the tooling account's bucket
        "CaptureUri": {
            "Fn::Join": [
                "",
                ["s3://", _base("PublishOutputRefCaptureBucket9F69268F"), f"/data-capture/{PREFIX}-prod/"],
            ]
        },
        "BaselineUri": "s3://artifacts-bucket/pipeline-runs/exec-1/preprocess/baseline/",
        "LookbackHours": "24",
    }
    (policy,) = [
        p
        for lid, p in resources(template, "AWS::IAM::ManagedPolicy").items()
        if lid.startswith("DriftSchedule")
    ]
    (start, *_rest) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert start == {"Action": "sagemaker:StartPipelineExecution", "Effect": "Allow", "Resource": pipeline}
    assert (
        staged.raw["endpoint-staging"]["Resources"]
        .keys()
        .isdisjoint(
            lid for lid in staged.raw["endpoint-prod"]["Resources"] if lid.startswith("DriftSchedule")
        )
    )


# ---------------------------------------------------------------------- persisting drift, relayed

DRIFT_ALARM = f"{PREFIX}-prod-drift"
PROD_BUS = f"arn:aws:events:{REGION}:{PROD}:event-bus/default"


def _publisher(template: dict[str, Any]) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """The drift-metrics function's environment and its role's statements by Sid."""
    (function,) = [
        f["Properties"]
        for lid, f in resources(template, "AWS::Lambda::Function").items()
        if lid.startswith("DriftMetrics")
    ]
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for lid, p in resources(template, "AWS::IAM::ManagedPolicy").items()
        if lid.startswith("DriftMetrics")
    ]
    return function["Environment"]["Variables"], {s["Sid"]: s for s in policy}


def test_the_stage_publisher_relays_persisting_drift_to_its_own_bus_only(staged: SynthesizedPlatform) -> None:
    environment, statements = _publisher(staged.raw["prod-monitoring"])
    # its alarm and its own account's default bus (the base stack's forwarding rule sends it on)
    assert environment == {
        "METRIC_NAMESPACE": contract.DRIFT_NAMESPACE,
        "DRIFT_ALARM_NAME": DRIFT_ALARM,
        "DRIFT_EVENT_BUS": PROD_BUS,
    }
    # the two statements the relay adds, exactly: that alarm, that bus, that event
    assert statements["ReadDriftAlarms"] == {
        "Action": "cloudwatch:DescribeAlarms",
        "Effect": "Allow",
        "Resource": f"arn:aws:cloudwatch:{REGION}:{PROD}:alarm:{DRIFT_ALARM}",
        "Sid": "ReadDriftAlarms",
    }
    assert statements["PutPersistingDrift"] == {
        "Action": "events:PutEvents",
        "Condition": {
            "StringEquals": {"events:source": "mlops.drift", "events:detail-type": "Drift Persists"}
        },
        "Effect": "Allow",
        "Resource": PROD_BUS,
        "Sid": "PutPersistingDrift",
    }
    assert sorted(statements) == [
        "DecryptReports",
        "PublishDriftMetrics",
        "PutPersistingDrift",
        "ReadDriftAlarms",
        "ReadDriftReports",
        "WriteOwnLogs",
    ]


@pytest.mark.parametrize("app", ["single-account", "tooling account"])
def test_a_tooling_publisher_relays_nothing(
    synthesized: SynthesizedPlatform, staged: SynthesizedPlatform, app: str
) -> None:
    # the tooling account's trigger reads its own checks' reports and alarms itself
    template = (synthesized if app == "single-account" else staged).raw["monitoring"]
    environment, statements = _publisher(template)
    assert environment == {"METRIC_NAMESPACE": contract.DRIFT_NAMESPACE}
    assert sorted(statements) == ["DecryptReports", "PublishDriftMetrics", "ReadDriftReports", "WriteOwnLogs"]
