"""The Track step under the image's Python 3.10 with botocore 1.20.52 and boto3 1.17.52: its client
(stdlib urllib + botocore) logs the contract chain's own Preprocess, Train and Evaluate outputs to a
real local MLflow server, and the run reads back with the mlflow client."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from contract_jobs import IMAGE, run_processing
from mlflow_server import MlflowServer

from ml_code import contract

pytestmark = pytest.mark.contract

SERVER_ARN = "arn:aws:sagemaker:eu-west-1:111122223333:mlflow-tracking-server/contract-mlflow"
EXECUTION_ARN = "arn:aws:sagemaker:eu-west-1:111122223333:pipeline/contract-training/execution/contract-1"


@pytest.fixture(scope="module")
def server(mlflow_shared: MlflowServer) -> MlflowServer:
    """The test process's shared server (tests/conftest.py)."""
    return mlflow_shared


def track_request(evaluate_request: dict[str, Any], server_url: str) -> dict[str, Any]:
    """Evaluate's request with the Track step's command, inputs and output (the bundle, image and
    environment stay): what the definition's Track step asks of the same container."""
    request = copy.deepcopy(evaluate_request)
    app = request["AppSpecification"]
    app["ContainerEntrypoint"][2] = app["ContainerEntrypoint"][2].replace("evaluate.py", "track.py")
    app["ContainerArguments"] = [
        "--tracking-server-arn", SERVER_ARN, "--execution-arn", EXECUTION_ARN, "--gate", contract.GATE_PASSED,
        "--param", "hp.num_round=300", "--tag", "mlops.steps=Preprocess,Train,Evaluate,Track",
        *("--param", "input_data_uri=s3://contract/raw/", "--param", "target_column=churn"),
        *("--param", "problem_type=binary", "--param", "threshold=0.7", "--param", "champion_margin=0.01"),
    ]  # fmt: skip
    code = next(i for i in request["ProcessingInputs"] if i["InputName"] == "code")
    inputs = {"evaluation": contract.TRACK_EVALUATION_DIR, "model": contract.TRACK_MODEL_DIR,
              "baseline": contract.TRACK_BASELINE_DIR}  # fmt: skip
    request["ProcessingInputs"] = [code] + [
        {"InputName": name, "S3Input": {**code["S3Input"], "LocalPath": path}}
        for name, path in inputs.items()
    ]
    output = {"LocalPath": contract.TRACKING_DIR, "S3Uri": "s3://contract-placeholder/tracking"}
    request["ProcessingOutputConfig"] = {
        "Outputs": [{"OutputName": contract.TRACKING_OUTPUT, "S3Output": output}]
    }
    request["Environment"] = {**request.get("Environment", {}), contract.MLFLOW_URL_ENV: server_url}
    return request


def test_the_images_python_logs_the_chain_as_one_run(
    workspace: Path,
    pipeline_requests: dict[str, Any],
    bundle: Path,
    image_splits: dict[str, Path],
    model_tar: Path,
    evaluate_runs: dict[str, Any],
    server: MlflowServer,
) -> None:
    # GIVEN the image-side outputs of Preprocess, Train and Evaluate
    evaluation = evaluate_runs["runs"][IMAGE.name]
    assert evaluation.error is None, evaluation.error
    model_dir = workspace / "track-model"
    model_dir.mkdir()
    (model_dir / model_tar.name).write_bytes(model_tar.read_bytes())
    sources = {"code": bundle, "evaluation": evaluation.file(contract.EVALUATION_DIR), "model": model_dir,
               "baseline": image_splits["baseline"]}  # fmt: skip

    # WHEN the Track command runs on the image's interpreter
    request = track_request(pipeline_requests["Evaluate"], server.url)
    run = run_processing(workspace / "track-image", IMAGE, request, sources)

    # THEN it wrote tracking.json, and the run holds the params, metrics, curve, artifacts and tags
    assert run.error is None, f"{run.error}\n{run.log[-3000:]}"
    tracked = json.loads((run.file(contract.TRACKING_DIR) / contract.TRACKING_FILE).read_text())
    client = server.client()
    logged = client.get_run(tracked["run_id"])
    assert logged.info.experiment_id == tracked["experiment_id"]
    assert client.get_experiment(tracked["experiment_id"]).name == "contract-training"
    assert logged.info.status == "FINISHED"
    assert logged.info.run_name == "contract-1"
    assert logged.data.params["hp.num_round"] == "300"
    card = json.loads(tracked[contract.TRACKING_MODEL_CARD_PATH])  # the image's Python writes the card too
    assert card["additional_information"]["custom_details"]["mlflow_run_id"] == tracked["run_id"]
    fingerprint = json.loads((image_splits["baseline"] / contract.DATA_FINGERPRINT_FILE).read_text())
    assert logged.data.params["data_fingerprint"] == fingerprint["fingerprint"]
    report = json.loads((evaluation.file(contract.EVALUATION_DIR) / contract.EVALUATION_FILE).read_text())
    assert logged.data.metrics["quality_gate.value"] == report[contract.GATE_SECTION]["value"]
    assert len(client.get_metric_history(tracked["run_id"], "validation-auc")) > 1
    assert logged.data.tags["mlops.gate"] == contract.GATE_PASSED
    assert logged.data.tags["sagemaker.pipeline_execution_arn"] == EXECUTION_ARN
    names = {f.path for f in client.list_artifacts(tracked["run_id"], "evaluation")}
    assert "evaluation/evaluation.json" in names
