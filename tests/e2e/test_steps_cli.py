"""The three steps as real processes, each in its own container-shaped folder (MLOPS_OPT_ML_ROOT).

Preprocess -> train -> evaluate, handing files over the way SageMaker does: processing outputs
become training channels, the model dir becomes model.tar.gz, the test output becomes the
evaluation input. Binary (the churn sample), multiclass (iris, string labels) and regression
(diabetes), plus a bad training file that must end in the failure file and exit code 1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from sklearn.datasets import load_diabetes, load_iris

from ml_code import contract
from ml_code.sample_data import generate
from ml_code.steps.preprocess import preprocess, write_outputs

REPO = Path(__file__).resolve().parents[2]
FAST_TRAINING = ["--num_round", "30", "--max_depth", "3", "--early_stopping_rounds", "5"]


def run_step(module: str, root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m ml_code.steps.<module>`` as a container would run it, with /opt/ml under ``root``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    clean.update({contract.OPT_ML_ROOT_ENV: str(root), **env})
    return subprocess.run(
        [sys.executable, "-m", f"ml_code.steps.{module}", *args],
        cwd=REPO, env=clean, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def at(root: Path, container_path: str) -> Path:
    return root / Path(container_path).relative_to(contract.OPT_ML)


def write_churn(path: Path) -> None:
    path.parent.mkdir(parents=True)
    generate(1000, seed=5).to_csv(path, index=False)


def write_iris(path: Path) -> None:
    bunch = load_iris(as_frame=True)
    frame = bunch.frame.assign(species=bunch.target_names[bunch.target]).drop(columns=["target"])
    path.parent.mkdir(parents=True)
    frame.to_csv(path, index=False)


def write_diabetes(path: Path) -> None:
    path.parent.mkdir(parents=True)
    load_diabetes(as_frame=True, scaled=False).frame.to_csv(path, index=False)


def handover(source: Path, target: Path) -> None:
    shutil.copytree(source, target)


@pytest.mark.parametrize(
    ("problem", "target", "writer", "metric", "floor", "reason"),
    [
        ("binary", "churn", write_churn, "auc", 0.7, "passed"),
        # iris has 150 rows: its ~30 test rows are too few to judge on (the gate's minimum is 50)
        ("multiclass", "species", write_iris, "accuracy", 0.8, "cannot_judge"),
        ("regression", "target", write_diabetes, "r2", 0.2, "passed"),
    ],
)
def test_preprocess_train_evaluate_as_containers(
    tmp_path: Path, problem: str, target: str, writer: object, metric: str, floor: float, reason: str
) -> None:
    # GIVEN a user CSV in the preprocessing job's input
    pre, trn, ev = tmp_path / "preprocess", tmp_path / "train", tmp_path / "evaluate"
    writer(at(pre, contract.RAW_DATA_DIR) / "data.csv")  # type: ignore[operator]

    # WHEN preprocess runs
    done = run_step("preprocess", pre, "--target-column", target, "--problem-type", problem)
    assert done.returncode == 0, done.stdout + done.stderr
    outputs = {name: at(pre, path) for name, path in contract.PREPROCESS_OUTPUTS.items()}
    assert (outputs["baseline"] / contract.BASELINE_STATISTICS_FILE).is_file()

    # AND its train/validation/transformer outputs become the training job's channels
    for channel in (contract.TRAIN_CHANNEL, contract.VALIDATION_CHANNEL, contract.TRANSFORMER_CHANNEL):
        handover(outputs[channel], at(trn, contract.TRAINING_CHANNEL_ROOT) / channel)
    done = run_step("train", trn, *FAST_TRAINING)
    assert done.returncode == 0, done.stdout + done.stderr
    model_dir = at(trn, contract.TRAINING_MODEL_DIR)
    meta = json.loads((model_dir / contract.MODEL_META_FILE).read_text())
    assert meta["problem_type"] == problem

    # AND SageMaker's model.tar.gz and the test output feed the evaluation job
    at(ev, contract.MODEL_INPUT_DIR).mkdir(parents=True)
    with tarfile.open(at(ev, contract.MODEL_INPUT_DIR) / "model.tar.gz", "w:gz") as tar:
        for path in model_dir.iterdir():
            tar.add(path, arcname=path.name)
    handover(outputs["test"], at(ev, contract.TEST_INPUT_DIR))
    done = run_step("evaluate", ev, "--problem-type", problem, "--champion-margin", "0.02")
    assert done.returncode == 0, done.stdout + done.stderr

    # THEN the report carries the problem's metrics and a gate the pipeline can read
    report_dir = at(ev, contract.EVALUATION_DIR)
    report = json.loads((report_dir / contract.EVALUATION_FILE).read_text())
    section = report[contract.METRICS_SECTION_BY_PROBLEM[problem]]
    gate = report[contract.GATE_SECTION]
    assert section[metric]["value"] > floor
    gate_metric = contract.GATE_METRIC_BY_PROBLEM[problem]
    assert gate["metric"] == gate_metric
    assert gate["value"] == pytest.approx(section[gate_metric]["value"])
    assert (gate["reason"], gate["passed"], gate["champion"]) == (reason, int(reason == "passed"), None)
    assert gate["message"].startswith("Passed: " if reason == "passed" else "Held, cannot judge: only ")
    assert gate["message"].endswith("no approved champion yet." if reason == "passed" else "test fraction.")
    assert any(report_dir.glob("*.png"))
    if problem == "multiclass":  # string labels survive the round trip
        assert set(section["confusion_matrix"]) == {"setosa", "versicolor", "virginica"}
    assert not (ev / "output" / "message").exists()


def test_bad_training_file_writes_the_failure_file_and_exits_1(tmp_path: Path) -> None:
    # GIVEN training channels from preprocess (run in-process: only training is under test here)
    # whose first train part file then gets corrupted
    trn = tmp_path / "train"
    channels = at(trn, contract.TRAINING_CHANNEL_ROOT)
    result = preprocess(generate(300, seed=5), "churn", "binary")
    write_outputs(result, {name: channels / name for name in contract.PREPROCESS_OUTPUTS})
    train_file = at(trn, contract.TRAINING_CHANNEL_ROOT) / contract.TRAIN_CHANNEL / "part-algo-1-00.csv"
    lines = train_file.read_text().splitlines()
    cells = lines[3].split(",")
    lines[3] = ",".join([*cells[:2], "corrupt", *cells[3:]])
    train_file.write_text("\n".join(lines) + "\n")

    # WHEN training runs
    done = run_step("train", trn, *FAST_TRAINING)

    # THEN it fails the SageMaker way: exit code 1 and the reason in /opt/ml/output/failure
    assert done.returncode == 1
    failure = at(trn, contract.FAILURE_FILE).read_text()
    assert failure.startswith("DataValidationError: part-algo-1-00.csv has non-numeric values in columns")
    assert not (at(trn, contract.TRAINING_MODEL_DIR) / contract.MODEL_FILE).exists()
