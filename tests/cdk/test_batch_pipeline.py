"""The batch scoring pipeline as synthesized: its definition, least-privilege roles, ResolveModel,
the failed-run alert and the schedule; and nothing of it when ``batch.enabled`` is off.

Both apps are synthesized with every guardrail (``app.synth()`` raises on an unacknowledged
cdk-nag finding), so a clean synth is itself the zero-findings check.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from platform_synth import SynthesizedPlatform, resources, synth_platform

PREFIX = "mlops-demo-dev"
BATCH = {"enabled": True, "schedule": "cron(0 2 * * ? *)", "keyColumn": "row_id", "instanceCount": 2}


def _with_batch(batch: dict[str, Any] | None) -> Any:
    def edit(context: dict[str, Any]) -> None:
        context["environments"]["dev"].pop("batch", None)
        if batch is not None:
            context["environments"]["dev"]["batch"] = batch

    return edit


@pytest.fixture(scope="module")
def on(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedPlatform:
    return synth_platform(tmp_path_factory.mktemp("batch-on"), edit=_with_batch(BATCH), approved=False)


@pytest.fixture(scope="module")
def off(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedPlatform:
    return synth_platform(tmp_path_factory.mktemp("batch-off"), edit=_with_batch(None), approved=False)


def _pipeline_template(synthesized: SynthesizedPlatform) -> dict[str, Any]:
    path: Path = synthesized.outdir / f"{PREFIX}-pipeline.template.json"
    template: dict[str, Any] = json.loads(path.read_text())
    return template


def _pipelines(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["PipelineName"]: r["Properties"]
        for r in resources(template, "AWS::SageMaker::Pipeline").values()
    }


def _definition(pipeline: dict[str, Any]) -> dict[str, Any]:
    text, _ = pipeline["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Sub"]
    definition: dict[str, Any] = json.loads(text)
    return definition


def _statements(template: dict[str, Any], prefix: str) -> dict[str, dict[str, Any]]:
    [policy] = [r for k, r in resources(template, "AWS::IAM::ManagedPolicy").items() if k.startswith(prefix)]
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def test_the_batch_pipeline_sits_beside_training(on: SynthesizedPlatform) -> None:
    pipelines = _pipelines(_pipeline_template(on))
    assert set(pipelines) == {f"{PREFIX}-training", f"{PREFIX}-batch-score"}
    definition = _definition(pipelines[f"{PREFIX}-batch-score"])
    assert definition["Parameters"] == [
        {"Name": "InputDataUri", "Type": "String", "DefaultValue": "s3://${ArtifactBucket}/data/batch/"}
    ]
    steps = {s["Name"]: s for s in definition["Steps"]}
    assert steps["ResolveModel"]["Arguments"] == {
        "group": "${ModelPackageGroup}",
        "problem_type": "binary",  # the sample use case's problem type
        "key_column": "true",
    }
    score = steps["Score"]["Arguments"]
    assert score["TransformResources"]["InstanceCount"] == 2
    assert score["TransformResources"]["InstanceType"] == on.config.env.instances.endpoint
    assert score["DataProcessing"]["InputFilter"] == "$[1:]"


def test_the_role_reaches_scores_runs_and_its_boundary_only(on: SynthesizedPlatform) -> None:
    statements = _statements(_pipeline_template(on), "BatchScorePolicy")
    assert {"RegisterForReview", "ListModelVersions", "ReadWriteRuns", "StartTrainingJobs"}.isdisjoint(
        statements
    )
    assert statements["ReadModelsAndBaselines"]["Action"] == "s3:GetObject"
    assert "batch-scores/*" in json.dumps(statements["WriteBatchScores"]["Resource"])
    model = statements["CreateRunModel"]["Condition"]
    assert model["Bool"] == {"sagemaker:NetworkIsolation": "true"}
    assert set(model["ForAllValues:StringEquals"]) == {
        "sagemaker:VpcSubnets",
        "sagemaker:VpcSecurityGroupIds",
    }
    transform = statements["StartTransformJobs"]
    assert "transform-job/pipelines-*" in json.dumps(transform["Resource"])
    assert set(transform["Condition"]["StringEquals"]) == {"sagemaker:VolumeKmsKey", "sagemaker:OutputKmsKey"}
    assert transform["Condition"]["ForAllValues:StringEquals"] == {
        "sagemaker:InstanceTypes": list(on.config.env.instances.allowed)
    }
    processing = statements["StartProcessingJobs"]["Condition"]["Bool"]
    assert processing["sagemaker:NetworkIsolation"] == "true"
    # it invokes its own ResolveModel function and nothing else
    assert statements["ResolveModelStep"]["Action"] == "lambda:InvokeFunction"


def test_resolve_model_may_only_list_and_describe_versions(on: SynthesizedPlatform) -> None:
    template = _pipeline_template(on)
    statements = _statements(template, "BatchScoreResolveModelPolicy")
    assert set(statements) == {"WriteOwnLogs", "ListVersions", "DescribeVersions"}
    assert statements["ListVersions"]["Action"] == "sagemaker:ListModelPackages"
    assert f"model-package/{PREFIX}-models/*" in json.dumps(statements["DescribeVersions"]["Resource"])
    [function] = [
        r["Properties"]
        for k, r in resources(template, "AWS::Lambda::Function").items()
        if k.startswith("BatchScore")
    ]
    assert function["Handler"] == "resolve_model.handler"


def test_failed_runs_alert_and_the_schedule_starts_it(on: SynthesizedPlatform) -> None:
    template = on.raw["monitoring"]
    [rule] = [
        r["Properties"] for k, r in resources(template, "AWS::Events::Rule").items() if "TrainingFailed" in k
    ]
    arns = json.dumps(rule["EventPattern"]["detail"]["pipelineArn"])
    assert f"pipeline/{PREFIX}-batch-score" in arns
    [schedule] = resources(template, "AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    assert props["Name"] == f"{PREFIX}-batch-score"
    assert props["ScheduleExpression"] == BATCH["schedule"]
    assert f"pipeline/{PREFIX}-batch-score" in json.dumps(props["Target"]["Arn"])
    assert "DeadLetterConfig" in props["Target"]


def test_nothing_of_it_when_off(off: SynthesizedPlatform) -> None:
    # GIVEN batch scoring off (the default)
    # THEN the pipeline stack has the training pipeline alone and its template names nothing of batch
    template = _pipeline_template(off)
    assert set(_pipelines(template)) == {f"{PREFIX}-training"}
    text = json.dumps(template)
    assert "batch-score" not in text
    assert "BatchScore" not in text
    assert "resolve_model" not in text
    # and the alert rule and the monitoring stack are as before: two pipelines, no schedule
    monitoring = off.raw["monitoring"]
    [rule] = [
        r["Properties"]
        for k, r in resources(monitoring, "AWS::Events::Rule").items()
        if "TrainingFailed" in k
    ]
    assert len(rule["EventPattern"]["detail"]["pipelineArn"]) == 2
    assert not resources(monitoring, "AWS::Scheduler::Schedule")
    assert "batch-score" not in json.dumps(monitoring)
