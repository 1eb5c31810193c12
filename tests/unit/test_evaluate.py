"""Evaluate: SageMaker-format metrics, the quality gate, model extraction, report and plots."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from ml_code import contract
from ml_code.errors import DataValidationError
from ml_code.sample_data import generate
from ml_code.steps.champion import Champion
from ml_code.steps.evaluate import NO_CHAMPION_FLOOR, evaluate, extract_model, main, quality_gate
from ml_code.steps.preprocess import preprocess, write_outputs
from ml_code.steps.quality_metrics import quality_report
from ml_code.steps.train import Hyperparameters, train


# ----------------------------------------------------------------- metrics
def test_binary_report_has_sagemaker_metrics_and_curves() -> None:
    y = np.array([0, 0, 1, 1, 0, 1])
    scores = np.array([0.1, 0.6, 0.8, 0.4, 0.2, 0.9])
    section = quality_report("binary", y, scores, ["no", "yes"])["binary_classification_metrics"]
    assert section["auc"] == {"value": pytest.approx(8 / 9), "standard_deviation": "NaN"}
    assert section["accuracy"]["value"] == pytest.approx(4 / 6)
    assert section["precision"]["value"] == pytest.approx(2 / 3)
    assert section["recall"]["value"] == pytest.approx(2 / 3)
    assert section["false_positive_rate"]["value"] == pytest.approx(1 / 3)
    assert section["confusion_matrix"] == {"no": {"no": 2, "yes": 1}, "yes": {"no": 1, "yes": 2}}
    roc = section["receiver_operating_characteristic_curve"]
    assert roc["false_positive_rates"][0] == 0.0
    assert roc["true_positive_rates"][-1] == 1.0
    assert set(section["precision_recall_curve"]) == {"precisions", "recalls"}


def test_standard_deviation_comes_from_resamples_at_200_rows() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    scores = np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1)
    auc = quality_report("binary", y, scores, [0, 1])["binary_classification_metrics"]["auc"]
    assert isinstance(auc["standard_deviation"], float)
    assert 0 < auc["standard_deviation"] < 0.1


def test_multiclass_report_uses_argmax_and_weighted_metrics() -> None:
    y = np.array([0, 1, 2, 2])
    probabilities = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.6, 0.2, 0.2]])
    section = quality_report("multiclass", y, probabilities, ["a", "b", "c"])[
        "multiclass_classification_metrics"
    ]
    assert section["accuracy"]["value"] == 0.75
    assert section["confusion_matrix"]["c"] == {"a": 1, "b": 0, "c": 1}
    assert section["accuracy_best_constant_classifier"]["value"] == 0.5
    assert "weighted_f1" in section


def test_regression_report_has_mse_rmse_mae_r2() -> None:
    y, predictions = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0])
    section = quality_report("regression", y, predictions, None)["regression_metrics"]
    assert section["mse"]["value"] == pytest.approx(4 / 3)
    assert section["rmse"]["value"] == pytest.approx(np.sqrt(4 / 3))
    assert section["mae"]["value"] == pytest.approx(2 / 3)
    assert section["r2"]["value"] == pytest.approx(-1.0)


@pytest.mark.parametrize(
    ("problem", "y", "labels", "message"),
    [("ranking", [1], None, "unknown problem type"), ("binary", [], [0, 1], "zero rows"),
     ("binary", [1], None, "need the class labels")],
)  # fmt: skip
def test_quality_report_rejects_bad_calls(
    problem: str, y: list[int], labels: list[int] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        quality_report(problem, np.array(y), np.array(y, dtype=float), labels)


# ----------------------------------------------------------------- gate
def test_gate_without_champion_lets_any_candidate_pass() -> None:
    report = {"binary_classification_metrics": {"auc": {"value": 0.8}}}
    assert quality_gate("binary", report, None, 0.01) == {
        "metric": "auc", "value": 0.8, "champion_value": None,
        "champion_floor": NO_CHAMPION_FLOOR, "champion_model_package_arn": None,
    }  # fmt: skip


def test_gate_floor_is_champion_minus_margin() -> None:
    report = {"regression_metrics": {"r2": {"value": 0.5}}}
    gate = quality_gate("regression", report, Champion(value=0.6, model_package_arn="arn:champ"), 0.05)
    assert (gate["metric"], gate["champion_value"], gate["champion_model_package_arn"]) == (
        "r2",
        0.6,
        "arn:champ",
    )
    assert gate["champion_floor"] == pytest.approx(0.55)


# ----------------------------------------------------------------- model + report
@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("run")
    result = preprocess(generate(300, seed=2), "churn", "binary")
    write_outputs(result, {name: root / name for name in contract.PREPROCESS_OUTPUTS})
    train(
        root / "train",
        root / "validation",
        root / "model",
        Hyperparameters(num_round=20, early_stopping_rounds=5),
    )
    with tarfile.open(root / "model.tar.gz", "w:gz") as tar:
        for path in (root / "model").iterdir():
            tar.add(path, arcname=path.name)
    return root


def test_extract_model_unpacks_the_archive(trained: Path, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "model.tar.gz").write_bytes((trained / "model.tar.gz").read_bytes())
    model_dir = extract_model(tmp_path / "in", tmp_path / "out")
    assert (model_dir / contract.MODEL_FILE).is_file()
    assert extract_model(trained / "model", tmp_path / "unused") == trained / "model"


def test_extract_model_rejects_missing_and_unsafe_archives(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"no model.tar.gz in .*; found \[\]"):
        extract_model(tmp_path, tmp_path / "out")
    with tarfile.open(tmp_path / "model.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(DataValidationError, match=r"unsafe member '\.\./escape\.txt'"):
        extract_model(tmp_path, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()


def test_evaluate_writes_report_with_gate_and_plots(trained: Path, tmp_path: Path) -> None:
    champion = Champion(value=0.7, model_package_arn="arn:aws:sagemaker:us-east-1:1:model-package/g/1")
    report = evaluate(trained / "model", trained / "test" / contract.TEST_FILE, tmp_path,
                      problem_type="binary", champion=champion, margin=0.02)  # fmt: skip
    written = json.loads((tmp_path / contract.EVALUATION_FILE).read_text())
    assert written == report
    assert written[contract.GATE_SECTION]["value"] == written["binary_classification_metrics"]["auc"]["value"]
    assert written[contract.GATE_SECTION]["champion_floor"] == pytest.approx(0.68)
    pngs = {p.name for p in tmp_path.glob("*.png")}
    assert pngs == {"roc_curve.png", "precision_recall_curve.png", "confusion_matrix.png"}
    assert all((tmp_path / p).read_bytes().startswith(b"\x89PNG") for p in pngs)


def test_evaluate_rejects_a_problem_type_other_than_the_models(trained: Path, tmp_path: Path) -> None:
    with pytest.raises(
        DataValidationError, match="--problem-type regression but the model was trained as binary"
    ):
        evaluate(
            trained / "model", trained / "test" / contract.TEST_FILE, tmp_path, problem_type="regression"
        )


def test_main_writes_the_message_file_when_the_model_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(tmp_path))
    assert main(["--problem-type", "binary"]) == 1
    assert "no model.tar.gz in" in (tmp_path / "output" / "message").read_text()
