"""The contract tier's shared runs: the pipeline's jobs under the image's Python and the offline runner's.

Each job runs once per session per interpreter, from the same inputs, and the tests compare
what they left behind. The chain is the pipeline's own: the real source bundle
(``stacks.pipeline.source_bundle``), the sample data, Preprocess -> Train -> model.tar.gz ->
Evaluate, and the drift check on captured traffic against Preprocess's baseline. Every job runs
the command its synthesized request carries (see ``contract_definitions``); later jobs take the
image-side outputs of earlier ones as input, so a difference shows up in the step that made it.

``.venv-contract`` (``make contract-env``; ``make test`` builds it) is required: without it the
tier is skipped with the command to run, except in CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from contract_definitions import (
    MODEL_PACKAGE_GROUP,
    REGION,
    code_uri,
    drift_check_request,
    training_pipeline_requests,
)
from contract_jobs import (
    CONTRACT_PYTHON,
    IMAGE,
    INTERPRETERS,
    REPO,
    JobRun,
    run_processing,
    run_training,
    tar_model,
)

from emulator.local_aws import FAKE_CREDENTIALS, LocalAws, moto_server
from ml_code import contract, sample_data
from ml_code.serving.capture import capture_line
from stacks.pipeline.source_bundle import bundle_bytes

#: The demo's sample size (demo/story.py SAMPLE_ROWS): the runs below see what `make demo` sees.
SAMPLE_ROWS = 4000
#: Captured requests for the drift check (drifted traffic, so the check has something to say).
CAPTURED_ROWS = 300


@pytest.fixture(scope="session")
def contract_python() -> Path:
    """.venv-contract's interpreter; skips the tier without it (fails in CI)."""
    stamp = CONTRACT_PYTHON.parent.parent / ".installed"
    if not stamp.is_file():
        reason = (
            f"the contract tier needs .venv-contract (Python 3.10 + the SageMaker XGBoost image's pins); "
            f"{stamp.relative_to(REPO)} is missing: run `make contract-env` (make test builds it)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return CONTRACT_PYTHON


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("contract")


@pytest.fixture(scope="session")
def bundle(workspace: Path) -> Path:
    """The real source bundle, under the file name the definitions give it (the asset's key)."""
    data = bundle_bytes(REPO / "ml_code")
    path = workspace / code_uri(data).rsplit("/", 1)[-1]
    path.write_bytes(data)
    return path


@pytest.fixture(scope="session")
def pipeline_requests(bundle: Path) -> dict[str, Any]:
    return training_pipeline_requests(bundle.read_bytes())


@pytest.fixture(scope="session")
def raw_data(workspace: Path) -> Path:
    folder = workspace / "raw"
    folder.mkdir()
    sample_data.generate(SAMPLE_ROWS, seed=7).to_csv(folder / "churn.csv", index=False)
    return folder


@pytest.fixture(scope="session")
def preprocess_runs(
    contract_python: Path, workspace: Path, pipeline_requests: dict[str, Any], bundle: Path, raw_data: Path
) -> dict[str, JobRun]:
    sources = {"code": bundle, "data": raw_data}
    return {
        i.name: run_processing(workspace / f"preprocess-{n}", i, pipeline_requests["Preprocess"], sources)
        for n, i in enumerate(INTERPRETERS)
    }


def output(run: JobRun, name: str) -> Path:
    """A Preprocess output folder of ``run``."""
    return run.file(contract.PREPROCESS_OUTPUTS[name])


@pytest.fixture(scope="session")
def image_splits(preprocess_runs: dict[str, JobRun]) -> dict[str, Path]:
    """Preprocess's outputs from the image side: the input of every later job."""
    run = preprocess_runs[IMAGE.name]
    assert run.error is None, run.error
    return {name: output(run, name) for name in contract.PREPROCESS_OUTPUTS}


@pytest.fixture(scope="session")
def training_runs(
    workspace: Path, pipeline_requests: dict[str, Any], bundle: Path, image_splits: dict[str, Path]
) -> dict[str, JobRun]:
    sources = {"code": bundle, **{c: image_splits[c] for c in ("train", "validation", "transformer")}}
    return {
        i.name: run_training(workspace / f"train-{n}", i, pipeline_requests["Train"], sources)
        for n, i in enumerate(INTERPRETERS)
    }


@pytest.fixture(scope="session")
def model_tar(workspace: Path, training_runs: dict[str, JobRun]) -> Path:
    """model.tar.gz of the image-side training job, packed as SageMaker packs /opt/ml/model."""
    run = training_runs[IMAGE.name]
    assert run.error is None, run.error
    return tar_model(run.file(contract.TRAINING_MODEL_DIR), workspace / "model.tar.gz")


def seed_champion(aws: LocalAws, model_tar: Path) -> str:
    """An approved version in the stand-in whose model.tar.gz is ``model_tar``, so Evaluate's lookup
    finds it, downloads it and scores it on the run's raw test rows (the same model: improvement 0)."""
    options = {"endpoint_url": aws.endpoint_url, "region_name": REGION, **FAKE_CREDENTIALS}
    s3, sagemaker = boto3.client("s3", **options), boto3.client("sagemaker", **options)
    s3.create_bucket(Bucket="champion", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="champion", Key="model.tar.gz", Body=model_tar.read_bytes())
    sagemaker.create_model_package_group(ModelPackageGroupName=MODEL_PACKAGE_GROUP)
    container = {"Image": "champion-image", "ModelDataUrl": "s3://champion/model.tar.gz"}
    created = sagemaker.create_model_package(
        ModelPackageGroupName=MODEL_PACKAGE_GROUP,
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [container],
            "SupportedContentTypes": [contract.CONTENT_TYPE_CSV],
            "SupportedResponseMIMETypes": [contract.CONTENT_TYPE_CSV],
        },
    )
    return str(created["ModelPackageArn"])


@pytest.fixture(scope="session")
def evaluate_runs(
    workspace: Path,
    pipeline_requests: dict[str, Any],
    bundle: Path,
    image_splits: dict[str, Path],
    model_tar: Path,
) -> dict[str, Any]:
    """Both Evaluate runs against one AWS stand-in holding an approved champion.

    The stand-in lives only inside this fixture: moto keeps its state per process, and other
    tests of the session reset it.
    """
    model_dir = workspace / "model-input"
    model_dir.mkdir()
    shutil.copy2(model_tar, model_dir / model_tar.name)
    sources = {"code": bundle, "model": model_dir, "test": image_splits["test"]}
    with moto_server() as aws:
        champion = seed_champion(aws, model_tar)
        runs = {
            i.name: run_processing(
                workspace / f"evaluate-{n}", i, pipeline_requests["Evaluate"], sources, aws
            )
            for n, i in enumerate(INTERPRETERS)
        }
    return {"champion": champion, "runs": runs}


@pytest.fixture(scope="session")
def captured_traffic(workspace: Path) -> Path:
    """Drifted CSV requests in SageMaker's capture format, served just now (inside the lookback)."""
    folder = workspace / "capture" / "AllTraffic" / "2026" / "01" / "01" / "00"
    folder.mkdir(parents=True)
    rows = sample_data.generate(CAPTURED_ROWS, seed=11, drift=0.8).drop(
        columns=[contract.SAMPLE_TARGET_COLUMN]
    )
    when = datetime.now(UTC)
    lines = [
        capture_line(row.encode(), contract.CONTENT_TYPE_CSV, b"0.5", contract.CONTENT_TYPE_CSV, when)
        for row in rows.to_csv(index=False, header=False).splitlines()
    ]
    (folder / "capture.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return workspace / "capture"


@pytest.fixture(scope="session")
def drift_runs(
    workspace: Path, bundle: Path, image_splits: dict[str, Path], captured_traffic: Path
) -> dict[str, JobRun]:
    request = drift_check_request(bundle.read_bytes())
    sources = {"code": bundle, "baseline": image_splits["baseline"], "capture": captured_traffic}
    return {
        i.name: run_processing(workspace / f"drift-{n}", i, request, sources)
        for n, i in enumerate(INTERPRETERS)
    }
