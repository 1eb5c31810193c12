"""The Transform step's model process answers a batch the same under the image's Python 3.10 and its
serving toolkit (sagemaker-containers' ``worker.Response``) as under the offline runner's stand-in:
the model is the image-side training job's model.tar.gz, its own ``code/inference.py`` loaded as
the container loads it (``SAGEMAKER_PROGRAM``/``SAGEMAKER_SUBMIT_DIRECTORY``)."""

from __future__ import annotations

import sys
import tarfile
from pathlib import Path

import pytest
from contract_jobs import CONTRACT_PYTHON, IMAGE, INTERPRETERS, NO_AWS, OFFLINE, Interpreter

from emulator.jobs import JobContext
from emulator.transform import MODEL_DIR, ModelProcess
from ml_code import contract, sample_data

pytestmark = pytest.mark.contract

ENVIRONMENT = {
    "SAGEMAKER_PROGRAM": contract.SERVING_PROGRAM,
    "SAGEMAKER_SUBMIT_DIRECTORY": contract.MODEL_CODE_CONTAINER_DIR,
    contract.DEFAULT_ACCEPT_ENV: contract.DEFAULT_ACCEPT,
}


def answers(step_dir: Path, interpreter: Interpreter, model_tar: Path) -> tuple[list[tuple[int, bytes]], str]:
    """The model process's answers to a good CSV batch and a bad one, and its log."""
    job = JobContext(step_dir, NO_AWS, step_dir.name)
    with tarfile.open(model_tar) as tar:
        tar.extractall(job.local(MODEL_DIR), filter="data")
    rows = sample_data.generate(40, seed=31).drop(columns=[contract.SAMPLE_TARGET_COLUMN])
    good = rows.to_csv(header=False, index=False).encode()
    python = str(CONTRACT_PYTHON) if interpreter.python else sys.executable
    model = ModelProcess(job, {**interpreter.image_env, **ENVIRONMENT}, python=python)
    try:
        replies = [
            model.invoke(good, contract.CONTENT_TYPE_CSV, contract.CONTENT_TYPE_CSV),
            model.invoke(good, contract.CONTENT_TYPE_CSV, ""),  # no Accept: the model's default
            model.invoke(b"1,2\n", contract.CONTENT_TYPE_CSV, contract.CONTENT_TYPE_CSV),
        ]
    finally:
        model.stop()
    return replies, job.log_path.read_text()


def test_the_model_process_answers_alike_under_the_images_toolkit(workspace: Path, model_tar: Path) -> None:
    runs = {i.name: answers(workspace / f"transform-{n}", i, model_tar) for n, i in enumerate(INTERPRETERS)}
    (image, image_log), (offline, _) = runs[IMAGE.name], runs[OFFLINE.name]
    assert "sagemaker_containers (the image's)" in image_log
    assert image[0][0] == 200
    assert len(image[0][1].decode().splitlines()) == 40
    assert image[1][1].startswith(b"{")  # JSON, the default Accept
    assert image[2][0] == 400
    assert image == offline
