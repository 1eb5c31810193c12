"""The real train.py, run by the offline runner as SageMaker runs it: every reason it fails for
reaches the training job's FailureReason, as DescribeTrainingJob shows it.

The source bundle is the one the stack ships (``bundle_bytes`` of ml_code), the splits come from
preprocess, and the training step is the definition's own request shape: its entrypoint, the
``code`` channel and hyperparameters.json. Each case breaks one thing.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ml_code
from emulator.local_aws import LocalAws, moto_server
from emulator.runner import run_pipeline
from ml_code import contract
from ml_code.sample_data import generate
from ml_code.steps.preprocess import preprocess, write_outputs
from stacks.pipeline.requests import CODE_CHANNEL, TRAINING_CODE_DIR, step_command
from stacks.pipeline.source_bundle import BUNDLE_NAME, bundle_bytes

BUCKET = "training-bucket"
BAD_TRAIN_CSV = b"this is not,the header\n1,2\n"
BAD_PART = "part-algo-1-00.csv"


@pytest.fixture(scope="module")
def splits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("splits")
    result = preprocess(generate(200, seed=3), "churn", "binary")
    write_outputs(result, {name: root / name for name in contract.PREPROCESS_OUTPUTS})
    return root


@pytest.fixture(scope="module")
def aws(splits: Path) -> Iterator[LocalAws]:
    with moto_server() as local:
        local.ensure_bucket(BUCKET)
        s3 = local.client("s3")
        bundle = bundle_bytes(Path(ml_code.__file__).parent)
        s3.put_object(Bucket=BUCKET, Key=f"code/{BUNDLE_NAME}", Body=bundle)
        for channel in (contract.TRAIN_CHANNEL, contract.VALIDATION_CHANNEL, contract.TRANSFORMER_CHANNEL):
            for path in (splits / channel).iterdir():
                s3.put_object(Bucket=BUCKET, Key=f"good/{channel}/{path.name}", Body=path.read_bytes())
        # a train channel whose part file is not the split preprocess wrote
        s3.put_object(Bucket=BUCKET, Key=f"bad/train/{BAD_PART}", Body=BAD_TRAIN_CSV)
        yield local


def header_mismatch(splits: Path) -> str:
    """What train.py says about BAD_TRAIN_CSV."""
    transformer = json.loads((splits / contract.TRANSFORMER_CHANNEL / contract.TRANSFORMER_FILE).read_text())
    expected = [contract.TARGET_COLUMN_IN_SPLITS, *transformer["output_names"]]
    return (
        f"DataValidationError: {BAD_PART} header does not match transformer.json: expected "
        f"{len(expected)} columns starting {expected[:3]}, got 2 starting ['this is not', 'the header']"
    )


def training_definition(hyperparameters: dict[str, str], channels: dict[str, str]) -> dict[str, Any]:
    def channel(name: str, prefix: str) -> dict[str, Any]:
        source = {"S3Uri": f"s3://{BUCKET}/{prefix}", "S3DataType": "S3Prefix"}
        return {"ChannelName": name, "DataSource": {"S3DataSource": source}}

    step = {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {
                "TrainingImage": "xgboost:3.0-5",
                "TrainingInputMode": "File",
                "ContainerEntrypoint": step_command("train.py", BUNDLE_NAME, code_dir=TRAINING_CODE_DIR),
            },
            "HyperParameters": hyperparameters,
            "InputDataConfig": [
                *(channel(name, prefix) for name, prefix in channels.items()),
                channel(CODE_CHANNEL, f"code/{BUNDLE_NAME}"),
            ],
            "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/models"},
            "StoppingCondition": {"MaxRuntimeInSeconds": 300},
        },
    }
    return {"Version": "2020-12-01", "Parameters": [], "Steps": [step]}


GOOD = {"train": "good/train/", "validation": "good/validation/", "transformer": "good/transformer/"}
FAST = {"num_round": "5"}


@pytest.mark.parametrize(
    ("hyperparameters", "channels", "expected"),
    [
        (
            FAST, {**GOOD, "train": "bad/train/"},
            None,  # header_mismatch()
        ),
        (
            {**FAST, "max_depth": "abc"}, GOOD,
            "DataValidationError: bad hyperparameter(s): max_depth must be an integer, got 'abc'",
        ),
        (
            {**FAST, "max_dept": "3"}, GOOD,
            "DataValidationError: unknown hyperparameter(s) max_dept; "
            "train.py accepts early_stopping_rounds, eta, max_depth, num_round, seed, subsample",
        ),
        (
            FAST, {"train": GOOD["train"], "transformer": GOOD["transformer"]},
            "DataValidationError: input channel 'validation' is missing: /opt/ml/input/data/validation "
            "does not exist (the training job needs a channel named 'validation')",
        ),
    ],
    ids=["bad data in the channel", "bad hyperparameter", "unknown hyperparameter", "missing channel"],
)  # fmt: skip
def test_the_training_job_failure_reason_is_what_train_py_wrote(
    aws: LocalAws,
    splits: Path,
    tmp_path: Path,
    hyperparameters: dict[str, str],
    channels: dict[str, str],
    expected: str | None,
) -> None:
    # GIVEN the definition's training request, broken in one way
    definition = training_definition(hyperparameters, channels)
    # WHEN the runner runs it
    result = run_pipeline(definition, aws, tmp_path, log=lambda _: None)
    # THEN train.py's own words are in the failure file (nothing replaced them), and the job's
    # FailureReason is them after SageMaker's "AlgorithmError: "
    assert result.status == "Failed"
    written = (result.run_dir / "Train" / "opt_ml" / "output" / "failure").read_text()
    assert written == (expected or header_mismatch(splits))
    described = result.properties["Train"]
    assert described["TrainingJobStatus"] == "Failed"
    assert described["FailureReason"] == f"AlgorithmError: {written}"
    # ... which is also what the run reports for the step
    assert result.step("Train").message.startswith(f"exited with code 1: AlgorithmError: {written}\n")


def test_a_good_job_trains_and_uploads_its_model(aws: LocalAws, tmp_path: Path) -> None:
    result = run_pipeline(training_definition(FAST, GOOD), aws, tmp_path, log=lambda _: None)
    assert result.status == "Succeeded", result.failure
    assert not (result.run_dir / "Train" / "opt_ml" / "output" / "failure").exists()
    uri = result.properties["Train"]["ModelArtifacts"]["S3ModelArtifacts"]
    with tarfile.open(fileobj=io.BytesIO(aws.read_object(uri))) as tar:
        meta = json.loads(tar.extractfile(contract.MODEL_META_FILE).read())  # type: ignore[union-attr]
    assert meta["hyperparameters"]["num_round"] == 5
