"""Delivery: push → test/deploy/start, approval → staging → manual gate → prod, scheduled retraining."""

from __future__ import annotations

import json
from typing import Any

import pytest
from platform_synth import SynthesizedPlatform, resources, synth_platform

from stacks.delivery.events import approval_pattern

CONNECTION = "arn:aws:codeconnections:eu-west-1:111122223333:connection/0a1b2c3d-1111-2222-3333-444455556666"


@pytest.fixture(scope="module")
def connected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """dev with a CodeConnections source and weekly retraining (one variant synth)."""

    def edit(context: dict[str, Any]) -> None:
        context["environments"]["dev"]["delivery"] = {
            "source": {"connectionArn": CONNECTION, "repository": "acme/churn", "branch": "main"},
            "retrainSchedule": "rate(7 days)",
        }

    return synth_platform(tmp_path_factory.mktemp("connected"), edit=edit, approved=False).raw["delivery"]


def _pipelines(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = resources(template, "AWS::CodePipeline::Pipeline").values()
    return {p["Properties"]["Name"]: p["Properties"] for p in found}


def _buildspec(template: dict[str, Any], name: str) -> dict[str, Any]:
    (project,) = [
        p["Properties"]
        for p in resources(template, "AWS::CodeBuild::Project").values()
        if p["Properties"]["Name"] == name
    ]
    return json.loads(project["Source"]["BuildSpec"])


def test_push_source_is_the_connection_filtered_to_ml_code(connected: dict[str, Any]) -> None:
    build = _pipelines(connected)["mlops-demo-dev-build"]
    assert build["PipelineType"] == "V2"
    (source,) = build["Stages"][0]["Actions"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["FullRepositoryId"] == "acme/churn"
    (trigger,) = build["Triggers"]
    push = trigger["GitConfiguration"]["Push"][0]
    assert push["Branches"]["Includes"] == ["main"]
    assert push["FilePaths"]["Includes"] == ["ml_code/**"]
    deploy_source = _pipelines(connected)["mlops-demo-dev-deploy"]["Stages"][0]["Actions"][0]
    assert deploy_source["Configuration"]["DetectChanges"] is False  # only approvals start deploys


def test_without_a_connection_the_source_is_an_s3_object(synthesized: SynthesizedPlatform) -> None:
    build = _pipelines(synthesized.raw["delivery"])["mlops-demo-dev-build"]
    (source,) = build["Stages"][0]["Actions"]
    assert source["ActionTypeId"]["Provider"] == "S3"
    assert source["Configuration"]["S3ObjectKey"] == "source/mlops-demo-dev.zip"
    assert "Triggers" not in build


def test_build_tests_then_updates_the_pipeline_then_starts_it(synthesized: SynthesizedPlatform) -> None:
    spec = _buildspec(synthesized.raw["delivery"], "mlops-demo-dev-build")
    assert spec["phases"]["install"]["commands"] == ["make setup"]
    commands = spec["phases"]["build"]["commands"]
    assert commands[0] == "make test"
    assert "deploy mlops-demo-dev-pipeline --exclusively" in commands[1]
    assert "release.start_pipeline --pipeline mlops-demo-dev-training" in commands[2]


def test_approval_rule_starts_the_deploy_pipeline_only(synthesized: SynthesizedPlatform) -> None:
    template = synthesized.raw["delivery"]
    (rule,) = resources(template, "AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"] == approval_pattern("mlops-demo-dev-models")
    (target,) = rule["Properties"]["Targets"]
    deploy_id = next(
        k for k, v in resources(template, "AWS::CodePipeline::Pipeline").items() if "Deploy" in k
    )
    assert deploy_id in json.dumps(target["Arn"])


def test_deploy_goes_staging_then_manual_gate_then_prod(synthesized: SynthesizedPlatform) -> None:
    deploy = _pipelines(synthesized.raw["delivery"])["mlops-demo-dev-deploy"]
    assert [s["Name"] for s in deploy["Stages"]] == ["Source", "Staging", "Approve", "Prod"]
    (gate,) = deploy["Stages"][2]["Actions"]
    assert gate["ActionTypeId"]["Provider"] == "Manual"
    staging = _buildspec(synthesized.raw["delivery"], "mlops-demo-dev-deploy-staging")["phases"]["build"][
        "commands"
    ]
    assert "release.promote --env dev --stage staging" in staging[0]
    assert "deploy mlops-demo-dev-endpoint-staging" in staging[1]
    assert "release.smoke --endpoint mlops-demo-dev-staging" in staging[2]
    prod = _buildspec(synthesized.raw["delivery"], "mlops-demo-dev-deploy-prod")["phases"]["build"][
        "commands"
    ]
    assert (
        prod[0].startswith("mkdir -p")
    )
    assert (
        "cp $CODEBUILD_SRC_DIR_Staging/" in prod[0]
    )
    assert "deploy mlops-demo-dev-endpoint-prod" in prod[1]


def test_builds_are_encrypted_and_not_privileged(synthesized: SynthesizedPlatform) -> None:
    for project in resources(synthesized.raw["delivery"], "AWS::CodeBuild::Project").values():
        props = project["Properties"]
        assert "EncryptionKey" in props
        assert props["Environment"]["PrivilegedMode"] is False
    for group in resources(synthesized.raw["delivery"], "AWS::Logs::LogGroup").values():
        assert "KmsKeyId" in group["Properties"]


def test_scheduled_retraining_may_only_start_the_training_pipeline(connected: dict[str, Any]) -> None:
    (schedule,) = resources(connected, "AWS::Scheduler::Schedule").values()
    assert schedule["Properties"]["ScheduleExpression"] == "rate(7 days)"
    assert "pipeline/mlops-demo-dev-training" in json.dumps(schedule["Properties"]["Target"]["Arn"])
    (policy,) = [
        p
        for k, p in resources(connected, "AWS::IAM::ManagedPolicy").items()
        if k.startswith("RetrainSchedulePolicy")
    ]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "sagemaker:StartPipelineExecution"


def test_no_schedule_unless_configured(synthesized: SynthesizedPlatform) -> None:
    assert not resources(synthesized.raw["delivery"], "AWS::Scheduler::Schedule")
