"""Delivery: push → test/update/start, approval → staging → manual gate → prod, scheduled retraining.

The session synth is cdk.json's dev (no connection: S3 fallback, no schedule); one module-scoped
variant adds a CodeConnections source and a retraining schedule.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from platform_synth import SynthesizedPlatform, resources, synth_platform

from stacks.delivery import commands
from stacks.delivery.events import approval_pattern

CONNECTION = "arn:aws:codeconnections:eu-west-1:111122223333:connection/0a1b2c3d-1111-2222-3333-444455556666"
PREFIX = "mlops-demo-dev"
GROUP = f"{PREFIX}-models"


@pytest.fixture(scope="module")
def connected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """dev with a CodeConnections source and weekly retraining (the one variant synth)."""

    def edit(context: dict[str, Any]) -> None:
        context["environments"]["dev"]["delivery"] = {
            "source": {"connectionArn": CONNECTION, "repository": "acme/churn", "branch": "release"},
            "retrainSchedule": "rate(7 days)",
        }

    return synth_platform(tmp_path_factory.mktemp("connected"), edit=edit, approved=False).raw["delivery"]


@pytest.fixture
def default(synthesized: SynthesizedPlatform) -> dict[str, Any]:
    return synthesized.raw["delivery"]


def _pipelines(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = resources(template, "AWS::CodePipeline::Pipeline").values()
    return {p["Properties"]["Name"]: p["Properties"] for p in found}


def _project(template: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (k, p["Properties"])
        for k, p in resources(template, "AWS::CodeBuild::Project").items()
        if p["Properties"]["Name"] == name
    ]
    return found


def _buildspec(template: dict[str, Any], name: str) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(_project(template, name)[1]["Source"]["BuildSpec"])
    return spec


def _commands(template: dict[str, Any], name: str) -> list[str]:
    commands: list[str] = _buildspec(template, name)["phases"]["build"]["commands"]
    return commands


def _own_statements(template: dict[str, Any], project: str) -> list[dict[str, Any]]:
    """Statements of the customer-managed policy on a project's role (what the build itself does)."""
    role = _project(template, project)[1]["ServiceRole"]["Fn::GetAtt"][0]
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(template, "AWS::IAM::ManagedPolicy").values()
        if p["Properties"].get("Roles") == [{"Ref": role}]
    ]
    return list(policy)


def test_push_source_is_the_connection_filtered_to_the_branch_and_ml_code(connected: dict[str, Any]) -> None:
    build = _pipelines(connected)[f"{PREFIX}-build"]
    assert build["PipelineType"] == "V2"
    (source,) = build["Stages"][0]["Actions"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["FullRepositoryId"] == "acme/churn"
    assert source["Configuration"]["BranchName"] == "release"
    (trigger,) = build["Triggers"]
    assert trigger["GitConfiguration"]["SourceActionName"] == source["Name"]
    (push,) = trigger["GitConfiguration"]["Push"]
    assert push["Branches"]["Includes"] == ["release"]
    assert push["FilePaths"]["Includes"] == ["ml_code/**"]
    deploy = _pipelines(connected)[f"{PREFIX}-deploy"]
    assert deploy["Stages"][0]["Actions"][0]["Configuration"]["DetectChanges"] is False
    assert "Triggers" not in deploy  # only approvals start deploys


def test_without_a_connection_the_source_is_a_polled_s3_object(default: dict[str, Any]) -> None:
    pipelines = _pipelines(default)
    (source,) = pipelines[f"{PREFIX}-build"]["Stages"][0]["Actions"]
    assert source["ActionTypeId"]["Provider"] == "S3"
    assert source["Configuration"]["S3ObjectKey"] == f"source/{PREFIX}.zip"
    # in the delivery bucket, which no persona or job role can write (not the artifact bucket)
    assert "DeliveryBucket" in json.dumps(source["Configuration"]["S3Bucket"])
    assert source["Configuration"]["PollForSourceChanges"] is True
    assert "Triggers" not in pipelines[f"{PREFIX}-build"]
    deploy_source = pipelines[f"{PREFIX}-deploy"]["Stages"][0]["Actions"][0]
    assert deploy_source["Configuration"]["PollForSourceChanges"] is False
    assert "SourceObject" in default["Outputs"]


def test_both_pipelines_are_v2_with_kms_artifact_stores(default: dict[str, Any]) -> None:
    pipelines = _pipelines(default)
    assert sorted(pipelines) == [f"{PREFIX}-build", f"{PREFIX}-deploy"]
    for pipeline in pipelines.values():
        assert pipeline["PipelineType"] == "V2"
        store = pipeline["ArtifactStore"]
        assert store["EncryptionKey"]["Type"] == "KMS"
        assert "data" in json.dumps(store["EncryptionKey"]["Id"]).lower()  # the data stack's key
        assert "DeliveryBucket" in json.dumps(store["Location"])


def test_build_tests_then_updates_the_pipeline_then_starts_it(default: dict[str, Any]) -> None:
    spec = _buildspec(default, f"{PREFIX}-build")
    assert spec["phases"]["install"]["commands"] == ["make setup"]
    assert spec["phases"]["install"]["runtime-versions"]["python"] == "3.11"
    test, deploy, start = _commands(default, f"{PREFIX}-build")
    assert test == "make test"
    assert f"cdk deploy {PREFIX}-pipeline --exclusively --require-approval never" in deploy
    assert deploy.endswith("-c env=dev")
    assert start.startswith(f".venv/bin/python -m release.start_pipeline --pipeline {PREFIX}-training ")
    assert '--reason "push $CODEBUILD_RESOLVED_SOURCE_VERSION"' in start
    # dev tracks runs: the execution names its commit, which the Track step logs as git_commit
    assert start.endswith(" --parameter SourceCommit=$CODEBUILD_RESOLVED_SOURCE_VERSION")


def test_build_role_may_deploy_through_cdk_and_start_only_the_training_pipeline(
    default: dict[str, Any],
) -> None:
    assume, start = _own_statements(default, f"{PREFIX}-build")
    assert assume["Action"] == "sts:AssumeRole"
    roles = json.dumps(assume["Resource"])
    for kind in ("deploy", "file-publishing"):
        assert f":role/cdk-hnb659fds-{kind}-role-" in roles
    # no lookups (synth is offline) and no image assets: those bootstrap roles are not assumable
    assert "lookup-role" not in roles
    assert "image-publishing-role" not in roles
    assert "*" not in roles
    assert sorted(start["Action"]) == ["sagemaker:DescribePipeline", "sagemaker:StartPipelineExecution"]
    assert json.dumps(start["Resource"]).endswith(f':pipeline/{PREFIX}-training"]]}}')


def test_approval_rule_matches_this_group_and_starts_the_deploy_pipeline(default: dict[str, Any]) -> None:
    (rule,) = resources(default, "AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"] == approval_pattern(GROUP)
    assert "EventBusName" not in rule["Properties"]  # the default bus, where SageMaker publishes
    (target,) = rule["Properties"]["Targets"]
    (deploy_id,) = [
        k
        for k, v in resources(default, "AWS::CodePipeline::Pipeline").items()
        if v["Properties"]["Name"] == f"{PREFIX}-deploy"
    ]
    assert {"Ref": deploy_id} in target["Arn"]["Fn::Join"][1]
    role = default["Resources"][target["RoleArn"]["Fn::GetAtt"][0]]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "events.amazonaws.com"
    }


def test_an_undeliverable_approval_waits_in_the_delivery_dead_letter_queue(default: dict[str, Any]) -> None:
    # GIVEN the approval rule's target
    ((rule_id, rule),) = resources(default, "AWS::Events::Rule").items()
    (target,) = rule["Properties"]["Targets"]
    # THEN it dead-letters to the stack's own queue ...
    ((queue_id, queue),) = resources(default, "AWS::SQS::Queue").items()
    assert queue["Properties"]["QueueName"] == f"{PREFIX}-delivery-dlq"
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    # ... which EventBridge may write to for this rule only
    (policy,) = resources(default, "AWS::SQS::QueuePolicy").values()
    (send,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert (send["Principal"], send["Action"]) == ({"Service": "events.amazonaws.com"}, "sqs:SendMessage")
    assert send["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}


def test_deploy_goes_staging_then_manual_gate_then_prod(default: dict[str, Any]) -> None:
    deploy = _pipelines(default)[f"{PREFIX}-deploy"]
    # the shipped dev shadow-tests on prod first (tests/cdk/test_deploy_shadow_stage.py)
    assert [s["Name"] for s in deploy["Stages"]] == ["Source", "Staging", "Shadow", "Approve", "Prod"]
    stages = {s["Name"]: s["Actions"] for s in deploy["Stages"]}
    (staging,), (gate,), (prod,) = stages["Staging"], stages["Approve"], stages["Prod"]
    assert gate["ActionTypeId"] == {
        "Category": "Approval",
        "Owner": "AWS",
        "Provider": "Manual",
        "Version": "1",
    }
    assert "#{Staging.MODEL_VERSION}" in gate["Configuration"]["CustomData"]
    assert "NotificationArn" in gate["Configuration"]
    # after a shadow test the reviewer looks at prod, where the shadow ran
    assert f"#/endpoints/{PREFIX}-prod" in json.dumps(gate["Configuration"]["ExternalEntityLink"])
    assert staging["Namespace"] == "Staging"
    # the staging build gets its own execution ID (to stop it when the version is live already)
    assert json.loads(staging["Configuration"]["EnvironmentVariables"]) == [
        {"name": "PIPELINE_EXECUTION_ID", "type": "PLAINTEXT", "value": "#{codepipeline.PipelineExecutionId}"}
    ]
    assert [a["Name"] for a in staging["OutputArtifacts"]] == ["Staging"]
    assert {a["Name"] for a in prod["InputArtifacts"]} == {"Source", "Staging"}


def test_staging_resolves_deploys_and_smoke_tests_with_its_config(default: dict[str, Any]) -> None:
    spec = _buildspec(default, f"{PREFIX}-deploy-staging")
    assert spec["env"]["exported-variables"] == ["MODEL_VERSION"]
    assert spec["artifacts"]["files"] == [".build/release/dev-staging.json"]
    resolve, export, approval, stop_if_live, deploy, smoke, track = spec["phases"]["build"]["commands"]
    assert (
        resolve
        == f".venv/bin/python -m release.resolve --group {GROUP} --out .build/release/dev-staging.json"
    )
    assert export.startswith("export MODEL_VERSION=$(")
    # (dev tracks runs) the approval shows on the version's run before anything ships
    assert approval == (
        ".venv/bin/python -m release.track_release --stage staging --model-file "
        '.build/release/dev-staging.json --tracking-server-arn "$MLOPS_TRACKING_SERVER_ARN" --approval-only'
    )
    # a version already live on both stages (an edit of a deployed Approved version) ships nothing
    assert stop_if_live.startswith(
        f"if .venv/bin/python -m release.live --version $MODEL_VERSION --stack {PREFIX}-endpoint-staging "
        f"--stack {PREFIX}-endpoint-prod ; then aws codepipeline stop-pipeline-execution --pipeline-name "
        f'{PREFIX}-deploy --pipeline-execution-id "$PIPELINE_EXECUTION_ID" --abandon '
    )
    assert stop_if_live.endswith("; exit 0 ; fi")
    assert f"cdk deploy {PREFIX}-endpoint-staging --exclusively --require-approval never" in deploy
    assert smoke == (
        f".venv/bin/python -m release.smoke --endpoint {PREFIX}-staging "
        "--model-file .build/release/dev-staging.json --samples 20 --max-latency-ms 3000"
    )
    # ... then (dev tracks runs) the shipped version's MLflow run is marked shipped to staging
    assert track == (
        ".venv/bin/python -m release.track_release --stage staging --model-file "
        '.build/release/dev-staging.json --tracking-server-arn "$MLOPS_TRACKING_SERVER_ARN"'
    )


def test_prod_ships_the_version_staging_tested(default: dict[str, Any]) -> None:
    read, resolve, deploy, smoke, track = _commands(default, f"{PREFIX}-deploy-prod")
    assert read.startswith("export MODEL_VERSION=$(")
    assert read.endswith(" $CODEBUILD_SRC_DIR_Staging/.build/release/dev-staging.json)")
    assert resolve == (
        f".venv/bin/python -m release.resolve --group {GROUP} --version $MODEL_VERSION "
        "--out .build/release/dev-prod.json"
    )
    assert f"cdk deploy {PREFIX}-endpoint-prod --exclusively" in deploy
    assert smoke.endswith("--model-file .build/release/dev-prod.json --samples 20 --max-latency-ms 1000")
    assert track.startswith(".venv/bin/python -m release.track_release --stage prod --model-file ")


@pytest.mark.parametrize("stage", ["staging", "prod"])
def test_deploy_builds_name_this_environments_tracking_server(default: dict[str, Any], stage: str) -> None:
    # GIVEN a deploy build (dev has a tracking server)
    _, project = _project(default, f"{PREFIX}-deploy-{stage}")
    # THEN its variable is the server's ARN, resolved at deploy time (a buildspec string cannot be)
    [variable] = project["Environment"]["EnvironmentVariables"]
    assert (variable["Name"], variable["Type"]) == (commands.TRACKING_SERVER_VARIABLE, "PLAINTEXT")
    assert json.dumps(variable["Value"]).endswith(f':mlflow-tracking-server/{PREFIX}-mlflow"]]}}')
    # ... and its role may read runs and set tags there, nothing else of MLflow
    statements = {s["Sid"]: s for s in _own_statements(default, f"{PREFIX}-deploy-{stage}")}
    tag = statements["TagShippedRun"]
    assert sorted(tag["Action"]) == [
        "sagemaker-mlflow:Get*",
        "sagemaker-mlflow:Search*",
        "sagemaker-mlflow:SetExperimentTag",
        "sagemaker-mlflow:SetTag",
    ]
    assert tag["Resource"] == variable["Value"]
    mlflow = [s for s in statements.values() if "sagemaker-mlflow" in json.dumps(s["Action"])]
    assert mlflow == [tag]


@pytest.mark.parametrize("stage", ["staging", "prod"])
def test_deploy_roles_invoke_only_their_own_endpoint(default: dict[str, Any], stage: str) -> None:
    statements = {s["Sid"]: s for s in _own_statements(default, f"{PREFIX}-deploy-{stage}")}
    # only the staging build checks whether the version is live already (and stops the deploy)
    live_check = {"ReadEndpointStacks", "StopThisDeploy"} if stage == "staging" else set()
    assert set(statements) == {
        "DeployThroughCdkBootstrapRoles",
        "ListModelVersions",
        "DescribeVersionsOfThisGroup",
        "InvokeTheStageEndpoint",
        "DescribeTheStageEndpoint",
        "ReadSmokeSamples",
        "DecryptSmokeSamples",
        "TagShippedRun",
        *live_check,
    }
    if live_check:
        assert statements["StopThisDeploy"]["Action"] == "codepipeline:StopPipelineExecution"
        assert json.dumps(statements["StopThisDeploy"]["Resource"]).endswith(f':{PREFIX}-deploy"]]}}')
        stacks = json.dumps(statements["ReadEndpointStacks"]["Resource"])
        assert f":stack/{PREFIX}-endpoint-staging/*" in stacks
        assert f":stack/{PREFIX}-endpoint-prod/*" in stacks
    invoke = json.dumps(statements["InvokeTheStageEndpoint"]["Resource"])
    assert invoke.endswith(f':endpoint/{PREFIX}-{stage}"]]}}')
    assert statements["ListModelVersions"]["Resource"] == "*"  # no resource-level permission exists
    assert f"model-package/{GROUP}/*" in json.dumps(statements["DescribeVersionsOfThisGroup"]["Resource"])
    assert "/pipeline-runs/*" in json.dumps(statements["ReadSmokeSamples"]["Resource"])


def test_builds_are_encrypted_logged_and_unprivileged(default: dict[str, Any]) -> None:
    projects = resources(default, "AWS::CodeBuild::Project")
    assert len(projects) == 4  # build, staging, prod's shadow test, prod
    groups = resources(default, "AWS::Logs::LogGroup")
    for project in projects.values():
        props = project["Properties"]
        assert "EncryptionKey" in props
        assert props["Environment"]["PrivilegedMode"] is False
        assert props["Environment"]["Image"] == "aws/codebuild/standard:7.0"
        group = props["LogsConfig"]["CloudWatchLogs"]["GroupName"]["Ref"]
        assert "KmsKeyId" in groups[group]["Properties"]
        assert groups[group]["Properties"]["RetentionInDays"] > 0
        # deploy builds outlast CloudFormation's blue/green endpoint rollout (the shadow test's
        # also its window: dev's 60 minutes)
        expected = 60 if "-deploy-" not in props["Name"] else 180 if "-shadow" in props["Name"] else 120
        assert props["TimeoutInMinutes"] == expected


def test_scheduled_retraining_may_only_start_the_training_pipeline(connected: dict[str, Any]) -> None:
    (schedule,) = resources(connected, "AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "rate(7 days)"
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert "KmsKeyArn" in props
    assert json.dumps(props["Target"]["Arn"]).endswith(f':pipeline/{PREFIX}-training"]]}}')
    role = connected["Resources"][props["Target"]["RoleArn"]["Fn::GetAtt"][0]]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]
    # Scheduler sets aws:SourceArn to the schedule group's ARN (a schedule's ARN would never match)
    assert json.dumps(trust["Condition"]["StringEquals"]["aws:SourceArn"]).endswith(
        ':schedule-group/default"]]}'
    )
    # GIVEN every policy attached to the role WHEN its statements are collected THEN it may start
    # the training pipeline, decrypt the schedule's own target with the key and dead-letter,
    # nothing else.
    role_id = props["Target"]["RoleArn"]["Fn::GetAtt"][0]
    statements = [
        s
        for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
        for p in resources(connected, kind).values()
        if {"Ref": role_id} in p["Properties"].get("Roles", [])
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert sorted(s["Action"] for s in statements) == [
        "kms:Decrypt",
        "sagemaker:StartPipelineExecution",
        "sqs:SendMessage",
    ]
    (start,) = [s for s in statements if s["Action"] == "sagemaker:StartPipelineExecution"]
    assert start["Resource"] == props["Target"]["Arn"]
    # ... and, when Scheduler's retries run out, send the event to the delivery dead-letter queue
    (send,) = [s for s in statements if s["Action"] == "sqs:SendMessage"]
    assert props["Target"]["DeadLetterConfig"] == {"Arn": send["Resource"]}
    (queue_id,) = resources(connected, "AWS::SQS::Queue")
    assert send["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert "ManagedPolicyArns" not in role["Properties"]


def test_no_schedule_unless_configured(default: dict[str, Any]) -> None:
    assert not resources(default, "AWS::Scheduler::Schedule")


def test_a_hand_promotion_runs_the_same_steps_for_a_named_version(synthesized: SynthesizedPlatform) -> None:
    # GIVEN prod's config WHEN the commands for `make promote VERSION=7 STAGE=prod` are built THEN
    # they are the pipeline's prod steps with the version fixed: resolve exactly 7, deploy, smoke.
    prod = synthesized.config.env.stage("prod")
    resolve, deploy, smoke = commands.ship_commands(
        env="dev", prefix=PREFIX, group=GROUP, stage=prod, version="7"
    )
    assert (
        resolve == f".venv/bin/python -m release.resolve --group {GROUP} --version 7 --out {prod.model_file}"
    )
    pipeline_prod = _commands(synthesized.raw["delivery"], f"{PREFIX}-deploy-prod")
    assert [deploy, smoke] == pipeline_prod[2:4]  # the pipeline then marks the MLflow run shipped
