"""Training under the image's Python 3.10 and pins, with the Train request's own ContainerEntrypoint;
and why the job does not use the image's script-mode toolkit (it replaces the failure file)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
from contract_jobs import CONTRACT_PYTHON, IMAGE, INTERPRETERS, OFFLINE, JobRun, run_training
from contract_outputs import VERSIONED_META, differences

from ml_code import contract

pytestmark = pytest.mark.contract


def test_training_writes_the_model_and_matches_the_offline_runner(training_runs: dict[str, JobRun]) -> None:
    image, offline = training_runs[IMAGE.name], training_runs[OFFLINE.name]
    assert image.error is None, image.error
    assert offline.error is None, offline.error
    model_dir = image.file(contract.TRAINING_MODEL_DIR)
    for name in (contract.MODEL_FILE, contract.TRANSFORMER_FILE, contract.MODEL_META_FILE):
        assert (model_dir / name).stat().st_size > 0
    assert (model_dir / contract.MODEL_CODE_DIR / contract.SERVING_PROGRAM).is_file()
    # the image side really ran the image's interpreter and pins (train.py records them)
    versions = json.loads((model_dir / contract.MODEL_META_FILE).read_text())[VERSIONED_META]
    assert versions["python"].startswith("3.10.")
    assert (versions["numpy"], versions["xgboost"]) == ("2.1.0", "3.0.5")
    # the booster, transformer and serving code are byte-equal; model-meta.json but for its versions
    assert differences(model_dir, offline.file(contract.TRAINING_MODEL_DIR)) == []


@pytest.fixture(scope="module")
def bad_train_channel(workspace: Path, image_splits: dict[str, Path]) -> Path:
    """The train split with ``abc`` in a numeric cell of the first row of its first part file."""
    folder = workspace / "bad-train"
    shutil.copytree(image_splits["train"], folder)
    part = sorted(folder.glob(contract.SPLIT_PART_GLOB))[0]
    lines = part.read_text().splitlines()
    cells = lines[1].split(",")
    cells[1] = "abc"
    lines[1] = ",".join(cells)
    part.write_text("\n".join(lines) + "\n")
    return folder


def test_bad_training_data_leaves_the_scripts_reason_in_the_failure_file(
    workspace: Path,
    pipeline_requests: dict[str, Any],
    bundle: Path,
    image_splits: dict[str, Path],
    bad_train_channel: Path,
) -> None:
    # GIVEN the Train request with a non-numeric cell in its train channel
    sources = {"code": bundle, "train": bad_train_channel, "validation": image_splits["validation"]}
    sources["transformer"] = image_splits["transformer"]

    # WHEN its own ContainerEntrypoint runs, in the image and offline
    runs = {
        i.name: run_training(workspace / f"train-bad-{n}", i, pipeline_requests["Train"], sources)
        for n, i in enumerate(INTERPRETERS)
    }

    # THEN the job fails, and /opt/ml/output/failure (SageMaker's FailureReason) holds the
    # script's own DataValidationError, the same words in both worlds
    assert all(run.error for run in runs.values())
    failures = {name: run.file(contract.FAILURE_FILE).read_text() for name, run in runs.items()}
    assert failures[IMAGE.name].startswith("DataValidationError: ")
    assert sorted(bad_train_channel.glob(contract.SPLIT_PART_GLOB))[0].name in failures[IMAGE.name]
    assert failures[IMAGE.name] == failures[OFFLINE.name]


#: A user script that fails the way ours do: run_step writes DataValidationError to the failure file.
_FAILING_SCRIPT = b"""import sys

from ml_code.container import run_step
from ml_code.errors import DataValidationError


def step():
    raise DataValidationError("train.csv: column 'tenure_months' has a non-numeric value 'abc'")


sys.exit(run_step(step, "/opt/ml/output/failure"))
"""


def _submit_archive(bundle: Path, target: Path, program: str) -> Path:
    """The source bundle plus ``program`` (the failing script), as the SDK uploads sourcedir.tar.gz."""
    with tarfile.open(bundle) as source, tarfile.open(target, "w:gz") as archive:
        for member in source.getmembers():
            archive.addfile(member, source.extractfile(member))
        info = tarfile.TarInfo(program)
        info.size = len(_FAILING_SCRIPT)
        archive.addfile(info, io.BytesIO(_FAILING_SCRIPT))
    return target


def test_the_toolkits_script_mode_replaces_the_scripts_failure_file(
    contract_python: Path, workspace: Path, bundle: Path
) -> None:
    """Why Train has its own ContainerEntrypoint. If a future toolkit keeps the script's failure
    file, this test fails, and script mode could be reconsidered."""
    # GIVEN a script-mode training container: the toolkit's own `train` command, no framework
    # module, SAGEMAKER_PROGRAM-style hyperparameters naming a script that writes its failure file
    root = workspace / "toolkit-train" / "opt_ml"
    code = root / "input" / "data" / "code"
    code.mkdir(parents=True)
    archive = _submit_archive(bundle, code / "sourcedir.tar.gz", "fail.py")
    config = root / "input" / "config"
    config.mkdir(parents=True)
    hyperparameters = {
        "sagemaker_program": '"fail.py"',
        "sagemaker_submit_directory": json.dumps(str(archive)),
    }
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    (config / "inputdataconfig.json").write_text(json.dumps({"code": {"TrainingInputMode": "File"}}))
    # one host that resolves here: the toolkit waits (up to 15 min) for every host's DNS name
    (config / "resourceconfig.json").write_text(
        json.dumps({"current_host": "localhost", "hosts": ["localhost"]})
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "SAGEMAKER_", "PYTHON", "AWS_"))}
    env.pop("VIRTUAL_ENV", None)
    env.update(
        {
            "SAGEMAKER_BASE_DIR": str(root),  # the toolkit's own /opt/ml re-rooting
            contract.OPT_ML_ROOT_ENV: str(root),  # ours: the script's /opt/ml/output/failure
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )

    # WHEN the toolkit's train entry point (sagemaker_containers.cli.train:main) runs it
    result = subprocess.run(
        [str(CONTRACT_PYTHON.parent / "train")],
        env=env,
        cwd=root.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # THEN the script wrote its reason (the log shows it), but the toolkit replaced the failure
    # file with its own ExecuteUserScriptError naming only the command
    assert result.returncode != 0
    assert "invalid input: train.csv: column 'tenure_months'" in result.stdout + result.stderr
    failure = (root / "output" / "failure").read_text()
    assert failure.startswith("ExecuteUserScriptError:")
    assert 'Command "' in failure
    assert "fail.py" in failure
    assert "DataValidationError" not in failure
