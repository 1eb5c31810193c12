"""ScoreReport: the batch run's manifest, its column names, and drift of the scored rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from contracts import layout
from ml_code import contract, sample_data
from ml_code.drift import score_report
from ml_code.drift.score_files import output_columns
from ml_code.steps.baseline import compute_statistics, suggest_constraints

ARGS = [
    "--model-package-arn", "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/3",
    "--version", "3", "--input-uri", "s3://b/data/batch/",
    "--output-uri", "s3://b/batch-scores/e1/predictions/",
    "--execution-arn", "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/e1",
    "--problem-type", "binary",
]  # fmt: skip


def test_file_names_are_the_layouts() -> None:
    assert score_report.MANIFEST_FILE == layout.BATCH_MANIFEST_FILE
    assert score_report.DRIFT_FOLDER == layout.BATCH_DRIFT_FOLDER


def features(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    frame = sample_data.generate(rows, seed).drop(columns=["churn"])
    frame["monthly_charges"] = frame["monthly_charges"] + shift
    return frame


def job_tree(root: Path, frame: pd.DataFrame, *, baseline: bool = True) -> None:
    """Inputs of a ScoreReport job under ``root`` (the stand-in for /opt/ml): keyed rows split in two
    files (one nested), their predictions, and the baseline of unshifted training features."""
    scored = root / "processing/input/scored"
    predictions = root / "processing/input/predictions"
    half = len(frame) // 2
    for name, part in (("a.csv", frame.iloc[:half]), ("sub/b.csv", frame.iloc[half:])):
        keyed = part.copy()
        keyed.insert(0, "row_id", [f"r{i}" for i in part.index])
        (scored / name).parent.mkdir(parents=True, exist_ok=True)
        keyed.to_csv(scored / name, header=False, index=False)
        (predictions / f"{name}.out").parent.mkdir(parents=True, exist_ok=True)
        (predictions / f"{name}.out").write_text("".join(f"r{i},yes,0.7\n" for i in part.index))
    if baseline:
        statistics = compute_statistics(features(2000, seed=1))
        (root / "processing/input/baseline").mkdir(parents=True)
        (root / "processing/input/baseline/statistics.json").write_text(json.dumps(statistics))
        constraints = suggest_constraints(statistics)
        (root / "processing/input/baseline/constraints.json").write_text(json.dumps(constraints))


def run(root: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> tuple[int, dict[str, Any]]:
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(root))
    code = score_report.main([*ARGS, "--key-column", "row_id", *extra])
    manifest_path = root / "processing/output/report/manifest.json"
    return code, json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}


def test_manifest_names_the_version_the_files_and_the_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_tree(tmp_path, features(300, seed=2), baseline=False)
    code, manifest = run(tmp_path, monkeypatch)
    assert code == 0
    assert manifest["version"] == "3"
    assert manifest["model_package_arn"].endswith("model-package/g/3")
    assert manifest["files"] == [
        {"input": "a.csv", "output": "a.csv.out", "rows": 150},
        {"input": "sub/b.csv", "output": "sub/b.csv.out", "rows": 150},
    ]
    assert manifest["rows"] == 300
    assert manifest["output_columns"] == ["row_id", "label", "probability"]
    assert manifest["drift"] == {"checked": False, "reason": "not asked (driftCheck off)"}


def test_drift_of_the_scored_rows_is_checked_against_the_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN scored rows whose monthly charges moved far from training's
    job_tree(tmp_path, features(1000, seed=3, shift=60.0))
    # WHEN the report runs with the drift check
    code, manifest = run(tmp_path, monkeypatch, "--drift-check")
    # THEN the drifted feature is named, and the drift check's report files are under drift/
    assert code == 0
    assert manifest["drift"]["checked"] is True
    assert manifest["drift"]["records"] == 1000
    assert manifest["drift"]["verdict"] == "drift"
    assert "monthly_charges" in manifest["drift"]["drifted_features"]
    drift_dir = tmp_path / "processing/output/report/drift"
    assert (drift_dir / contract.DRIFT_METRICS_FILE).is_file()
    assert (drift_dir / contract.VIOLATIONS_FILE).is_file()


def test_unshifted_rows_show_no_drift(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    job_tree(tmp_path, features(1000, seed=4))
    code, manifest = run(tmp_path, monkeypatch, "--drift-check")
    assert code == 0
    assert manifest["drift"]["verdict"] == "no drift", manifest["drift"]


def test_a_drift_check_without_a_baseline_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    job_tree(tmp_path, features(50, seed=5), baseline=False)
    code, manifest = run(tmp_path, monkeypatch, "--drift-check")
    assert code == 0
    assert manifest["drift"]["checked"] is False
    assert "no baseline" in manifest["drift"]["reason"]


def test_an_input_without_predictions_fails_the_job_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_tree(tmp_path, features(20, seed=6), baseline=False)
    (tmp_path / "processing/input/predictions/sub/b.csv.out").unlink()
    code, manifest = run(tmp_path, monkeypatch)
    assert code != 0
    assert manifest == {}
    message = (tmp_path / "output/message").read_text()
    assert "sub/b.csv has no predictions b.csv.out" in message


@pytest.mark.parametrize(
    ("problem", "key", "width", "input_width", "expected"),
    [
        ("binary", None, 2, 0, ["label", "probability"]),
        ("regression", "id", 2, 0, ["id", "score"]),
        ("multiclass", None, 4, 0, ["label", "p(0)", "p(1)", "p(2)"]),
        ("multiclass", "id", 6, 3, ["id", "input_1", "input_2", "label", "p(0)", "p(1)"]),
    ],
)
def test_output_columns(
    problem: str, key: str | None, width: int, input_width: int, expected: list[str]
) -> None:
    assert output_columns(problem, key, width=width, input_width=input_width) == expected
