"""Every pipeline run is an MLflow run (issue 15), offline end to end: the tracked training definition,
as the stack writes it, run by the offline runner against moto and a real local ``mlflow server``,
once through the gate and once rejected by it; then each run read back with MLflow's own client
(``MlflowClient``): its params, metrics, training curve, artifacts, tags and status, and the
registered version's customer metadata naming its run.

One server and one pair of runs for the module (the runs are the slow part).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ml_code
from emulator import standins
from emulator.local_aws import LocalAws, moto_server
from emulator.report import summary_lines
from emulator.runner import RunResult, run_pipeline
from ml_code import contract, sample_data
from ml_code.steps.model_card import CARD_STATUS
from release import track_release
from release.resolve import resolve_to_file
from stacks.pipeline.definition import build_definition
from stacks.pipeline.props import TRAINING_HYPERPARAMETERS, DefinitionProps
from stacks.pipeline.requests import JobSettings
from stacks.pipeline.source_bundle import bundle_bytes

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlflow_server import MlflowServer

pytestmark = [pytest.mark.slow]

BUCKET, CODE_BUCKET, GROUP = "tracked-artifacts", "tracked-code", "tracked-models"
ACCOUNT, REGION = "123456789012", "us-east-1"
SERVER_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:mlflow-tracking-server/tracked-mlflow"
PIPELINE = "tracked-training"
ROWS = 2000


def _props() -> DefinitionProps:
    return DefinitionProps(
        job=JobSettings(
            role_arn=f"arn:aws:iam::{ACCOUNT}:role/pipeline",
            kms_key_arn=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            image_uri="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5",
            subnet_ids=("subnet-0123456789abcdef0",),
            security_group_ids=("sg-0123456789abcdef0",),
            max_runtime_seconds=600,
        ),
        artifact_bucket=BUCKET,
        code_uri=f"s3://{CODE_BUCKET}/0123abcd.tar.gz",
        region=REGION,
        model_package_group_name=GROUP,
        processing_instance_type="ml.m5.large",
        training_instance_type="ml.m5.xlarge",
        endpoint_instance_type="ml.m5.large",
        quality_threshold=0.6,
        champion_margin=0.01,
        use_spot=False,
        tracking_server_arn=SERVER_ARN,
    )


@pytest.fixture(scope="module")
def server(mlflow_shared: MlflowServer) -> MlflowServer:
    """The test process's shared server (tests/conftest.py)."""
    return mlflow_shared


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with moto_server() as local:
        for bucket in (BUCKET, CODE_BUCKET):
            local.ensure_bucket(bucket)
        s3 = local.client("s3")
        bundle = bundle_bytes(Path(ml_code.__file__).parent)
        s3.put_object(Bucket=CODE_BUCKET, Key="0123abcd.tar.gz", Body=bundle)
        rows = sample_data.generate(ROWS, seed=5).to_csv(index=False).encode()
        s3.put_object(Bucket=BUCKET, Key="data/raw/churn.csv", Body=rows)
        local.client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
        yield local


@pytest.fixture(scope="module")
def runs(
    aws: LocalAws, server: MlflowServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, RunResult]:
    definition = json.loads(build_definition(_props(), name=PIPELINE))
    root = tmp_path_factory.mktemp("runs")

    def run(execution_id: str, **overrides: Any) -> RunResult:
        return run_pipeline(
            definition,
            aws,
            root,
            overrides=overrides,
            execution_id=execution_id,
            pipeline_name=PIPELINE,
            mlflow_url=server.url,
            log=lambda _: None,
        )

    # AUC cannot reach 1.01: the second run is rejected by the gate
    return {"passed": run("passedrun01"), "rejected": run("rejectedrun1", QualityThreshold=1.01)}


def _tracking(aws: LocalAws, result: RunResult, step: str) -> dict[str, Any]:
    uri = result.step(step).outputs[contract.TRACKING_OUTPUT]
    tracking: dict[str, Any] = json.loads(aws.read_object(f"{uri}/{contract.TRACKING_FILE}"))
    return tracking


def _execution_arn(execution_id: str) -> str:
    """The ARN the runner gives the execution (moto's account and region, as the stand-in's)."""
    return (
        f"arn:aws:sagemaker:{standins.REGION}:{standins.ACCOUNT}:pipeline/{PIPELINE}/execution/{execution_id}"
    )


def test_a_passed_run_is_tracked_before_it_is_registered(runs):
    result = runs["passed"]
    assert result.status == "Succeeded", result.failure
    statuses = {s.name: s.status for s in result.steps}
    assert statuses["Track"] == statuses["Register"] == statuses["LinkRun"] == "Succeeded"
    assert statuses["TrackRejected"] == statuses["QualityGateFailed"] == "Skipped"


def test_the_passed_run_in_mlflow(aws, server, runs):
    # GIVEN what the Track step wrote for Register
    tracking = _tracking(aws, runs["passed"], "Track")
    # WHEN the run is read back with MLflow's own client
    client = server.client()
    run = client.get_run(tracking["run_id"])
    # THEN it is this execution's run in the pipeline's experiment, finished
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "passedrun01"
    assert run.info.experiment_id == tracking["experiment_id"]
    assert client.get_experiment(run.info.experiment_id).name == PIPELINE
    # ... with the definition's params (hyperparameters, data, instances, code) and the data's fingerprint
    params = run.data.params
    assert {f"hp.{k}": v for k, v in TRAINING_HYPERPARAMETERS.items()}.items() <= params.items()
    assert params["input_data_uri"] == f"s3://{BUCKET}/data/raw/"
    assert params["target_column"] == contract.SAMPLE_TARGET_COLUMN
    assert params["processing_instance_type"] == "ml.m5.large"
    assert params["training_instances"] == "1"
    assert params["code_uri"] == f"s3://{CODE_BUCKET}/0123abcd.tar.gz"
    assert params["git_commit"] == "unknown"  # started without SourceCommit (only the build knows it)
    assert float(params["threshold"]) == pytest.approx(0.6)
    assert params["data_fingerprint"]
    # ... every number of the evaluation report, and the training curve round by round
    metrics = run.data.metrics
    assert any(name.endswith("auc.value") for name in metrics)
    report = json.loads(
        aws.read_object(f"{runs['passed'].step('Evaluate').outputs['evaluation']}/evaluation.json")
    )
    assert metrics[f"{contract.GATE_SECTION}.value"] == pytest.approx(report[contract.GATE_SECTION]["value"])
    curve = next(name for name in sorted(metrics) if name.startswith("validation-"))
    history = client.get_metric_history(run.info.run_id, curve)
    assert len(history) > 5
    assert [m.step for m in history] == sorted(m.step for m in history)
    # ... the report, plots and baseline as artifacts (served by the local server)
    files = {
        f.path
        for folder in ("evaluation", "baseline", "model")
        for f in client.list_artifacts(run.info.run_id, folder)
    }
    assert {"evaluation/evaluation.json", "baseline/statistics.json", "baseline/constraints.json"} <= files
    assert any(path.endswith(".png") for path in files)
    # ... and the tags naming the execution, the gate and the steps
    tags = run.data.tags
    assert tags["sagemaker.pipeline_execution_arn"] == _execution_arn("passedrun01")
    assert tags["mlops.gate"] == contract.GATE_PASSED
    assert tags["mlops.steps"] == "Preprocess,Train,Evaluate,QualityGate,Track,Register,LinkRun"


def test_the_registered_version_names_its_run(aws, runs):
    result = runs["passed"]
    tracking = _tracking(aws, result, "Track")
    package = aws.client("sagemaker").describe_model_package(ModelPackageName=result.model_package_arn)
    metadata = package["CustomerMetadataProperties"]
    assert metadata[contract.MLFLOW_RUN_ID_METADATA_KEY] == tracking["run_id"]
    assert metadata[contract.MLFLOW_EXPERIMENT_ID_METADATA_KEY] == tracking["experiment_id"]
    assert metadata[contract.MLFLOW_SERVER_METADATA_KEY] == SERVER_ARN


def test_the_registered_version_carries_its_card_naming_the_run_and_the_gate(aws, runs):
    # GIVEN the version the passed run registered
    result = runs["passed"]
    tracking = _tracking(aws, result, "Track")
    package = aws.client("sagemaker").describe_model_package(ModelPackageName=result.model_package_arn)
    # THEN it carries the card the Track step wrote, pending review
    card = package["ModelCard"]
    assert card["ModelCardStatus"] == CARD_STATUS
    assert card["ModelCardContent"] == tracking[contract.TRACKING_MODEL_CARD_PATH]
    content = json.loads(card["ModelCardContent"])
    # ... naming the run, the execution and the gate's decision, and the model it describes
    details = content["additional_information"]["custom_details"]
    assert details["mlflow_run_id"] == tracking["run_id"]
    assert details["mlflow_experiment_id"] == tracking["experiment_id"]
    assert details["pipeline_execution_arn"] == _execution_arn("passedrun01")
    assert details["gate"] == contract.GATE_PASSED
    observation = content["evaluation_details"][0]["evaluation_observation"]
    assert observation.startswith("Passed: auc ")
    assert observation.endswith("; no approved champion yet.")
    assert content["model_overview"]["model_artifact"] == [result.step("Train").outputs["model"]]


def test_the_run_names_the_version_it_produced(aws, server, runs):
    # GIVEN the passed run's version WHEN its run is read back THEN LinkRun tagged it with the version
    result = runs["passed"]
    tags = server.client().get_run(_tracking(aws, result, "Track")["run_id"]).data.tags
    assert tags["mlops.model_package_arn"] == result.model_package_arn
    assert tags["mlops.model_package_version"] == result.model_package_arn.rsplit("/", 1)[1]
    assert tags["mlops.approval"] == "PendingManualApproval"


def test_shipping_the_version_makes_its_run_prods_live_run(aws, server, runs, tmp_path):
    # GIVEN the passed run's version, approved and resolved for prod as the deploy build does
    result = runs["passed"]
    sagemaker = aws.client("sagemaker")
    metadata = sagemaker.describe_model_package(ModelPackageName=result.model_package_arn)[
        "CustomerMetadataProperties"
    ]
    sagemaker.update_model_package(  # moto drops metadata it is not sent back (AWS keeps it)
        ModelPackageArn=result.model_package_arn, ModelApprovalStatus="Approved",
        CustomerMetadataProperties=metadata,
    )  # fmt: skip
    model_file = tmp_path / "prod.json"
    resolve_to_file(sagemaker, GROUP, model_file)
    # WHEN the build's command marks it shipped to prod, against the local server
    argv = ["--stage", "prod", "--model-file", str(model_file), "--tracking-server-arn", SERVER_ARN]
    assert track_release.main(argv, sagemaker=sagemaker, mlflow_url=server.url) == 0
    # THEN "which run produced prod's model" is one lookup, and that run names the version, approved
    client = server.client()
    run_id = client.get_experiment_by_name(PIPELINE).tags["mlops.live.prod"]
    assert run_id == _tracking(aws, result, "Track")["run_id"]
    tags = client.get_run(run_id).data.tags
    assert tags["mlops.model_package_arn"] == result.model_package_arn
    assert tags["mlops.approval"] == "Approved"
    assert tags["mlops.shipped.prod"] == tags["mlops.model_package_version"]


def test_a_rejected_candidate_is_a_failed_run_with_the_gates_message(aws, server, runs):
    result = runs["rejected"]
    # THEN the execution ends in the Fail step, after TrackRejected logged it; nothing is registered
    assert result.status == "Failed"
    statuses = {s.name: s.status for s in result.steps}
    assert (statuses["TrackRejected"], statuses["QualityGateFailed"]) == ("Succeeded", "Failed")
    assert statuses["Track"] == statuses["Register"] == "Skipped"
    assert result.model_package_arn is None
    run = server.client().get_run(_tracking(aws, result, "TrackRejected")["run_id"])
    assert run.info.status == "FAILED"
    assert run.info.run_name == "rejectedrun1"
    assert run.data.tags["mlops.gate"] == contract.GATE_REJECTED
    assert run.data.tags["mlops.gate_message"] == result.step("QualityGateFailed").message
    assert " is below the threshold 1.01 " in run.data.tags["mlops.gate_message"]
    assert run.data.tags["mlops.steps"].endswith(",QualityGate,TrackRejected,QualityGateFailed")
    assert any(name.endswith("auc.value") for name in run.data.metrics)


def test_both_runs_share_the_pipelines_experiment_and_the_report_links_them(aws, server, runs):
    experiment = server.client().get_experiment_by_name(PIPELINE)
    found = server.client().search_runs([experiment.experiment_id])
    assert {r.info.run_name for r in found} == {"passedrun01", "rejectedrun1"}
    for name, step in (("passed", "Track"), ("rejected", "TrackRejected")):
        url = _tracking(aws, runs[name], step)["run_url"]
        assert url.startswith(server.url)
        assert f"      MLflow run: {url}" in summary_lines(runs[name], aws)
