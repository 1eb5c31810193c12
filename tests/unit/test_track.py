"""The Track step against a real local MLflow server (tests/mlflow_server.py): what one pipeline
execution's run holds, read back with the mlflow client; one run per execution; the gate's outcome;
and each way it fails (bad input, server down, MLflow's 4xx) as a reason in the message file."""

from __future__ import annotations

import json
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest
from mlflow_server import MlflowServer, free_port

from ml_code import contract, sample_data
from ml_code.steps import evaluate, preprocess, track, train

SERVER_ARN = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/mlops-dev-mlflow"
PIPELINE = "mlops-dev-churn-training"


#: What the definition passes (stacks/pipeline/track.py), the model card's facts among them.
PARAMS = {
    "hp.eta": "0.2", "input_data_uri": "s3://bucket/raw/", "target_column": "churn",
    "problem_type": "binary", "threshold": "0.7", "champion_margin": "0.01",
}  # fmt: skip


def execution_arn(execution_id: str) -> str:
    return f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{PIPELINE}/execution/{execution_id}"


@pytest.fixture(scope="module")
def server(mlflow_shared: MlflowServer) -> MlflowServer:
    """The test process's shared server (tests/conftest.py)."""
    return mlflow_shared


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The Track step's three inputs, made by the real Preprocess, Train and Evaluate on sample data."""
    root = tmp_path_factory.mktemp("pipeline")
    (root / "raw").mkdir()
    sample_data.generate(600, seed=3).to_csv(root / "raw" / "churn.csv", index=False)
    assert preprocess.main(["--target-column", "churn", "--problem-type", "binary", "--input-dir",
                            str(root / "raw"), "--output-root", str(root / "pre")]) == 0  # fmt: skip
    assert train.main(["--num_round", "12", "--max_depth", "3", "--early_stopping_rounds", "0",
                       *(f"--{n}-dir={root / 'pre' / n}" for n in ("train", "validation", "transformer")),
                       "--model-dir", str(root / "model-dir")]) == 0  # fmt: skip
    (root / "model").mkdir()
    with tarfile.open(root / "model" / "model.tar.gz", "w:gz") as tar:
        for path in sorted((root / "model-dir").iterdir()):
            tar.add(path, arcname=path.name)
    dirs = {
        "--model-dir": root / "model",
        "--test-dir": root / "pre" / "test",
        "--output-dir": root / "evaluation",
    }
    assert (
        evaluate.main(["--problem-type", "binary", *(f"{flag}={path}" for flag, path in dirs.items())]) == 0
    )
    return {"evaluation": root / "evaluation", "model": root / "model", "baseline": root / "pre" / "baseline",
            "history": root / "model-dir" / contract.TRAINING_HISTORY_FILE}  # fmt: skip


def run_track(
    inputs: dict[str, Path], out: Path, execution_id: str, *extra: str, gate: str = contract.GATE_PASSED
) -> int:
    return track.main([
        "--tracking-server-arn", SERVER_ARN, "--execution-arn", execution_arn(execution_id), "--gate", gate,
        "--evaluation-dir", str(inputs["evaluation"]), "--model-dir", str(inputs["model"]),
        "--baseline-dir", str(inputs["baseline"]), "--output-dir", str(out),
        *(arg for key, value in PARAMS.items() for arg in ("--param", f"{key}={value}")),
        "--tag", "mlops.steps=Preprocess,Train",
        *extra,
    ])  # fmt: skip


@pytest.fixture
def job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: MlflowServer) -> Path:
    """A job's /opt/ml stand-in (the message file lands there) and the local server's URL."""
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(tmp_path / "opt_ml"))
    monkeypatch.setenv(contract.MLFLOW_URL_ENV, server.url)
    return tmp_path


def message(job: Path) -> str:
    return (job / "opt_ml" / "output" / "message").read_text()


def the_run(server: MlflowServer, execution_id: str) -> Any:
    client = server.client()
    experiment = client.get_experiment_by_name(PIPELINE)
    found = client.search_runs(
        [experiment.experiment_id],
        f"tags.`sagemaker.pipeline_execution_arn` = '{execution_arn(execution_id)}'",
    )
    assert len(found) == 1, [r.info.run_id for r in found]
    return found[0]


def test_a_passed_execution_is_a_finished_run_with_its_evidence(
    inputs: dict[str, Path], server: MlflowServer, job: Path
) -> None:
    # WHEN the step tracks an execution whose model passed the gate
    assert run_track(inputs, job / "out", "exec-pass") == 0

    # THEN tracking.json names the run, which holds the params, metrics, tags and artifacts
    run = the_run(server, "exec-pass")
    tracked = json.loads((job / "out" / contract.TRACKING_FILE).read_text())
    card = json.loads(tracked.pop(contract.TRACKING_MODEL_CARD_PATH))
    assert tracked == {
        "run_id": run.info.run_id, "experiment_id": run.info.experiment_id,
        "run_url": f"{server.url}/#/experiments/{run.info.experiment_id}/runs/{run.info.run_id}",
    }  # fmt: skip
    # AND the version's model card names the run and carries the test metrics (tests/unit/test_model_card.py)
    assert card["additional_information"]["custom_details"]["mlflow_run_id"] == run.info.run_id
    card_metrics = {
        m["name"]: m["value"] for m in card["evaluation_details"][0]["metric_groups"][0]["metric_data"]
    }
    assert card_metrics["auc"] == run.data.metrics["binary_classification_metrics.auc.value"]
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "exec-pass"
    fingerprint = json.loads((inputs["baseline"] / contract.DATA_FINGERPRINT_FILE).read_text())
    assert run.data.params == {
        **PARAMS, "data_fingerprint": fingerprint["fingerprint"], "data_rows": str(fingerprint["rows"]),
    }  # fmt: skip
    assert fingerprint["rows"] == 600
    report = json.loads((inputs["evaluation"] / contract.EVALUATION_FILE).read_text())
    metrics = run.data.metrics
    assert (
        metrics["binary_classification_metrics.auc.value"]
        == report["binary_classification_metrics"]["auc"]["value"]
    )
    assert metrics["quality_gate.value"] == report["quality_gate"]["value"]
    assert (
        metrics["binary_classification_metrics.confusion_matrix.1.1"]
        == report["binary_classification_metrics"]["confusion_matrix"]["1"]["1"]
    )
    assert not any("receiver_operating_characteristic_curve" in key for key in metrics)  # lists are plots
    assert {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")} == {
        "sagemaker.pipeline_execution_arn": execution_arn("exec-pass"), "mlops.gate": "passed",
        "mlops.steps": "Preprocess,Train",
    }  # fmt: skip


def test_the_training_curve_is_logged_per_round(
    inputs: dict[str, Path], server: MlflowServer, job: Path
) -> None:
    assert run_track(inputs, job / "out", "exec-curve") == 0
    run, client = the_run(server, "exec-curve"), server.client()
    history = json.loads(inputs["history"].read_text())
    assert set(history) == {"train-logloss", "train-auc", "validation-logloss", "validation-auc"}
    for key, values in history.items():
        logged = sorted(client.get_metric_history(run.info.run_id, key), key=lambda m: m.step)
        assert [(m.step, m.value) for m in logged] == list(enumerate(values))
        assert len(values) == 12


def test_the_reports_and_the_baseline_are_artifacts(
    inputs: dict[str, Path], server: MlflowServer, job: Path, tmp_path: Path
) -> None:
    assert run_track(inputs, job / "out", "exec-artifacts") == 0
    run, client = the_run(server, "exec-artifacts"), server.client()
    listed = {
        f.path
        for folder in ("evaluation", "baseline", "model")
        for f in client.list_artifacts(run.info.run_id, folder)
    }
    plots = {f"evaluation/{p.name}" for p in inputs["evaluation"].glob("*.png")}
    assert plots  # Evaluate drew its plots
    assert listed == {
        "evaluation/evaluation.json", *plots, "baseline/statistics.json", "baseline/constraints.json",
        "baseline/data-fingerprint.json", "model/training-history.json", "model/model-meta.json",
    }  # fmt: skip
    got = Path(client.download_artifacts(run.info.run_id, "evaluation/evaluation.json", str(tmp_path)))
    assert got.read_bytes() == (inputs["evaluation"] / contract.EVALUATION_FILE).read_bytes()
    got = Path(client.download_artifacts(run.info.run_id, "baseline/statistics.json", str(tmp_path)))
    assert got.read_bytes() == (inputs["baseline"] / contract.BASELINE_STATISTICS_FILE).read_bytes()


def test_a_rejected_model_is_a_failed_run_with_the_gates_message(
    inputs: dict[str, Path], server: MlflowServer, job: Path
) -> None:
    why = "auc 0.61 is below the champion's 0.70 minus 0.01"
    assert (
        run_track(inputs, job / "out", "exec-reject", "--gate-message", why, gate=contract.GATE_REJECTED) == 0
    )
    run = the_run(server, "exec-reject")
    assert run.info.status == "FAILED"
    assert (run.data.tags["mlops.gate"], run.data.tags["mlops.gate_message"]) == ("rejected", why)
    assert "quality_gate.value" in run.data.metrics  # a rejected run keeps its evidence too
    # AND nothing is registered, so no model card is written
    tracked = json.loads((job / "out" / contract.TRACKING_FILE).read_text())
    assert contract.TRACKING_MODEL_CARD_PATH not in tracked


def test_a_rerun_for_the_same_execution_logs_into_the_same_run_once(
    inputs: dict[str, Path], server: MlflowServer, job: Path
) -> None:
    # GIVEN an execution already tracked
    assert run_track(inputs, job / "first", "exec-twice") == 0
    first = json.loads((job / "first" / contract.TRACKING_FILE).read_text())

    # WHEN the step runs again for it
    assert run_track(inputs, job / "second", "exec-twice") == 0

    # THEN it is the same run, and each metric point is there once
    assert json.loads((job / "second" / contract.TRACKING_FILE).read_text()) == first
    run = the_run(server, "exec-twice")
    history = server.client().get_metric_history(run.info.run_id, "validation-auc")
    assert len(history) == 12
    assert len(server.client().get_metric_history(run.info.run_id, "quality_gate.value")) == 1


def test_a_missing_report_fails_the_job_naming_it(inputs: dict[str, Path], job: Path, tmp_path: Path) -> None:
    broken = {**inputs, "evaluation": tmp_path / "empty"}
    broken["evaluation"].mkdir()
    assert run_track(broken, job / "out", "exec-no-report") == 1
    assert message(job) == (
        "DataValidationError: the evaluation report is missing: "
        f"evaluation.json not found in {broken['evaluation']}"
    )
    assert not (job / "out" / contract.TRACKING_FILE).exists()


def test_a_server_that_is_down_fails_the_job_naming_the_call(
    inputs: dict[str, Path], job: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv(contract.MLFLOW_URL_ENV, f"http://127.0.0.1:{port}")
    monkeypatch.setattr(time, "sleep", lambda _: None)  # the retries' backoff
    assert run_track(inputs, job / "out", "exec-down") == 1
    assert message(job).startswith(
        f"TrackingError: MLflow experiments/get-by-name at http://127.0.0.1:{port}: cannot reach the server ("
    )
    assert message(job).endswith("(gave up after 4 attempts)")


def test_an_mlflow_4xx_fails_the_job_with_mlflows_error(
    inputs: dict[str, Path], server: MlflowServer, job: Path
) -> None:
    # GIVEN a tracked execution; WHEN a re-run gives a param another value (MLflow refuses to change one)
    assert run_track(inputs, job / "out", "exec-4xx") == 0
    assert run_track(inputs, job / "out", "exec-4xx", "--param", "hp.eta=0.3") == 1
    assert message(job).startswith(
        f"TrackingError: MLflow runs/log-batch at {server.url}: HTTP 400 INVALID_PARAMETER_VALUE: "
    )
    assert "hp.eta" in message(job)


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        (["--execution-arn", "exec-1"], "--execution-arn 'exec-1' is not a pipeline execution ARN"),
        (
            ["--tracking-server-arn", "mlflow"],
            "--tracking-server-arn 'mlflow' is not an MLflow tracking server ARN",
        ),
        (["--param", "novalue"], "--param 'novalue' is not KEY=VALUE"),
    ],
)
def test_bad_arguments_are_named(inputs: dict[str, Path], job: Path, flags: list[str], reason: str) -> None:
    assert run_track(inputs, job / "out", "exec-bad", *flags) == 1
    assert message(job).startswith(f"DataValidationError: {reason}")
