"""Evaluate: SageMaker-format metrics, the quality gate, model extraction, report and plots."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
from split_parts import make_splits, write_parts, write_transformer

from ml_code import contract
from ml_code.errors import DataValidationError
from ml_code.steps.evaluate import evaluate, extract_model, load_model, main, score_split
from ml_code.steps.gate_decision import ChampionScores, GateSettings
from ml_code.steps.quality_metrics import quality_report
from ml_code.steps.train import Hyperparameters, TrainingData, train


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


# ----------------------------------------------------------------- model + report
@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("run")
    made = make_splits(300, seed=2)
    for name in ("train", "validation", "test"):
        write_parts(made.frames[name], root / name, 2)
    write_parts(made.frames["test"], root / "test-one-file", 1)
    write_transformer(made.transformer, root / "transformer")
    data = TrainingData(
        train_dir=root / "train", validation_dir=root / "validation", transformer_dir=root / "transformer"
    )
    train(data, root / "model", Hyperparameters(num_round=20, early_stopping_rounds=5))
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
    # GIVEN a champion whose predictions on the same rows are this model's own
    arn = "arn:aws:sagemaker:us-east-1:1:model-package/g/1"
    first = evaluate(trained / "model", trained / "test", tmp_path / "first", problem_type="binary")
    assert first[contract.GATE_SECTION]["champion"] is None
    own = evaluate_predictions(trained)
    report = evaluate(trained / "model", trained / "test", tmp_path, problem_type="binary",
                      settings=GateSettings(min_test_rows=10, min_class_rows=2),
                      champion=ChampionScores(arn, own))  # fmt: skip
    written = json.loads((tmp_path / contract.EVALUATION_FILE).read_text())
    assert written == report
    gate = written[contract.GATE_SECTION]
    assert gate["value"] == written["binary_classification_metrics"]["auc"]["value"]
    assert gate["champion"]["improvement"] == 0.0
    assert (gate["champion_model_package_arn"], gate["passed"], gate["decision"]) == (arn, 1, "passed")
    assert "it is not worse than the approved champion (version 1)" in gate["message"]
    pngs = {p.name for p in tmp_path.glob("*.png")}
    assert pngs == {"roc_curve.png", "precision_recall_curve.png", "confusion_matrix.png"}
    assert all((tmp_path / p).read_bytes().startswith(b"\x89PNG") for p in pngs)


def test_evaluate_rejects_a_problem_type_other_than_the_models(trained: Path, tmp_path: Path) -> None:
    with pytest.raises(
        DataValidationError, match="--problem-type regression but the model was trained as binary"
    ):
        evaluate(trained / "model", trained / "test", tmp_path, problem_type="regression")


def test_main_writes_the_message_file_when_the_model_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(tmp_path))
    assert main(["--problem-type", "binary"]) == 1
    assert "no model.tar.gz in" in (tmp_path / "output" / "message").read_text()


def test_evaluate_over_many_part_files_and_chunks_equals_one_file(trained: Path, tmp_path: Path) -> None:
    # GIVEN the test rows in one file, and the same rows spread over 5 part files (some header-only,
    # as from hosts that drew no test row) read 7 rows at a time
    many = tmp_path / "many"
    rows = (trained / "test-one-file" / "part-algo-1-00.csv").read_text().splitlines()
    header, body = rows[0], rows[1:]
    cuts = [body[:10], [], body[10:37], [], body[37:]]
    many.mkdir()
    for k, cut in enumerate(cuts):
        (many / f"part-algo-{k}-00.csv").write_text("\n".join([header, *cut]) + "\n")
    (many / "raw-algo-1.csv").write_text("not,a,part,file\n")  # raw test rows sit beside the parts
    # WHEN both are evaluated
    one = evaluate(trained / "model", trained / "test-one-file", tmp_path / "one", problem_type="binary")
    spread = evaluate(trained / "model", many, tmp_path / "spread", problem_type="binary", chunk_rows=7)
    # THEN the reports are the same
    assert spread == one
    assert one["binary_classification_metrics"]["confusion_matrix"] != {}


def test_evaluate_names_a_test_folder_without_rows(trained: Path, tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"^no part-\*\.csv file in the test folder$"):
        evaluate(trained / "model", tmp_path, tmp_path / "out", problem_type="binary")
    header = (trained / "test" / "part-algo-1-00.csv").read_text().splitlines()[0]
    (tmp_path / "part-algo-1-00.csv").write_text(header + "\n")
    with pytest.raises(DataValidationError, match=r"^part-algo-1-00\.csv has no rows$"):
        evaluate(trained / "model", tmp_path, tmp_path / "out", problem_type="binary")


def test_main_reads_the_test_folder_in_chunks(
    trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the processing container's model and test inputs
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(tmp_path))
    inputs = tmp_path / "processing" / "input"
    (inputs / "model").mkdir(parents=True)
    shutil.copy2(trained / "model.tar.gz", inputs / "model")
    shutil.copytree(trained / "test", inputs / "test")
    # WHEN evaluate.py runs with --chunk-rows THEN it writes the report of the whole folder
    assert main(["--problem-type", "binary", "--chunk-rows", "11"]) == 0
    written = tmp_path / "processing" / "output" / "evaluation" / contract.EVALUATION_FILE
    expected = evaluate(trained / "model", trained / "test", tmp_path / "direct", problem_type="binary")
    assert json.loads(written.read_text()) == expected


def evaluate_predictions(trained: Path) -> np.ndarray:
    """The trained model's predictions on its test parts, in file order."""
    booster, transformer = load_model(trained / "model")
    return score_split(booster, transformer, trained / "test")[1]


def test_matplotlib_loads_only_when_the_plots_are_drawn() -> None:
    """Evaluate's peak is while it reads and scores the test split; matplotlib (~20 MB) is imported
    after that (ml_code/steps/plots.py), so it is not in the peak."""
    probe = "import sys; import ml_code.steps.evaluate; print('matplotlib' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False", result.stderr
