"""Preprocess: reading, schema validation messages, the split, the written contract, main()."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml_code import contract
from ml_code.errors import DataValidationError
from ml_code.features import FeatureTransformer
from ml_code.sample_data import generate
from ml_code.steps.preprocess import (
    SMOKE_SAMPLES,
    TEST_RAW_FILE,
    main,
    preprocess,
    read_raw,
    smoke_samples,
    split,
    validate,
    write_outputs,
)


@pytest.fixture
def churn() -> pd.DataFrame:
    return generate(300, seed=3)


# ----------------------------------------------------------------- read_raw
def test_read_raw_concatenates_every_csv(tmp_path: Path, churn: pd.DataFrame) -> None:
    (tmp_path / "part").mkdir()
    churn.iloc[:100].to_csv(tmp_path / "a.csv", index=False)
    churn.iloc[100:].to_csv(tmp_path / "part" / "b.csv", index=False)
    assert len(read_raw(tmp_path)) == 300


def test_read_raw_without_csv_lists_what_it_found(tmp_path: Path) -> None:
    (tmp_path / "data.parquet").write_bytes(b"x")
    with pytest.raises(DataValidationError, match=r"no CSV file under .*; files found: \['data.parquet'\]"):
        read_raw(tmp_path)


def test_read_raw_rejects_an_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataValidationError, match=r"empty.csv is empty \(no header, no rows\)"):
        read_raw(tmp_path)


def test_read_raw_rejects_files_with_different_columns(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x,y\n1,0\n")
    (tmp_path / "b.csv").write_text("x,z\n1,0\n")
    with pytest.raises(
        DataValidationError, match=r"b.csv has columns \['x', 'z'\], but a.csv has \['x', 'y'\]"
    ):
        read_raw(tmp_path)


# ----------------------------------------------------------------- validate
@pytest.mark.parametrize(
    ("frame", "problem", "message"),
    [
        (pd.DataFrame({"x": [1], "label": [0]}), "binary",
         r"target column 'y' not found; columns found: \['x', 'label'\]"),
        (pd.DataFrame({"x": [], "y": []}), "binary", r"has a header \(\['x', 'y'\]\) but no rows"),
        (pd.DataFrame({"y": [0, 1]}), "binary", "no feature columns besides the target 'y'"),
        (pd.DataFrame({"x": [1, 2], "gone": [None, None], "y": [0, 1]}), "binary",
         r"columns with no values at all \(every row missing\): \['gone'\]"),
        (pd.DataFrame({"x": [1, 2, 3], "y": [1.5, "high", 2]}), "regression",
         r"regression target 'y' has non-numeric values, e.g. \['high'\]"),
        (pd.DataFrame({"x": [1, 2, 3], "y": [1, 1, 1]}), "binary", "needs 2\\+ distinct labels, found 1"),
        (pd.DataFrame({"x": range(9), "y": [0, 1, 2] * 3}), "binary",
         r"binary target 'y' has 3 labels \['0', '1', '2'\]; use --problem-type multiclass"),
        (pd.DataFrame({"x": range(400), "y": range(400)}), "multiclass",
         "has 400 distinct labels; use --problem-type regression"),
        (pd.DataFrame({"x": range(7), "y": [0, 0, 0, 0, 0, 1, 1]}), "binary",
         r"labels \['1'\] of 'y' have fewer than 3 rows"),
    ],
)  # fmt: skip
def test_validate_names_each_problem(frame: pd.DataFrame, problem: str, message: str) -> None:
    with pytest.raises(DataValidationError, match=message):
        validate(frame, "y", problem)


def test_validate_drops_rows_without_a_target(caplog: pytest.LogCaptureFixture) -> None:
    frame = pd.DataFrame({"x": range(8), "y": [0, 1, None, 0, 1, 0, 1, 0]})
    assert len(validate(frame, "y", "binary")) == 7
    assert "dropping 1 rows without a 'y' value" in caplog.text


def test_validate_makes_a_numeric_regression_target_from_strings() -> None:
    frame = pd.DataFrame({"x": [1, 2], "y": ["1.5", "2"]})
    assert validate(frame, "y", "regression")["y"].tolist() == [1.5, 2.0]


# ----------------------------------------------------------------- split
def test_split_is_seeded_sized_and_stratified(churn: pd.DataFrame) -> None:
    train, validation, test = split(
        churn, "churn", "binary", validation_fraction=0.2, test_fraction=0.2, seed=1
    )
    assert (len(train), len(validation), len(test)) == (180, 60, 60)
    rate = churn["churn"].mean()
    for part in (train, validation, test):
        assert abs(part["churn"].mean() - rate) < 0.02
    again = split(churn, "churn", "binary", validation_fraction=0.2, test_fraction=0.2, seed=1)
    pd.testing.assert_frame_equal(test, again[2])


@pytest.mark.parametrize(("val", "test"), [(0.0, 0.2), (0.5, 0.5), (0.2, 1.2)])
def test_split_rejects_bad_fractions(churn: pd.DataFrame, val: float, test: float) -> None:
    with pytest.raises(ValueError, match="fractions must be in"):
        split(churn, "churn", "binary", validation_fraction=val, test_fraction=test, seed=1)


def test_split_too_small_for_stratification_is_a_data_error() -> None:
    frame = pd.DataFrame({"x": range(6), "y": [0, 0, 0, 1, 1, 1]})
    with pytest.raises(DataValidationError, match="cannot split 6 rows"):
        split(frame, "y", "binary", validation_fraction=0.1, test_fraction=0.1, seed=1)


# ----------------------------------------------------------------- preprocess + write_outputs
def test_preprocess_writes_the_contract_files(tmp_path: Path, churn: pd.DataFrame) -> None:
    # GIVEN the churn data preprocessed
    result = preprocess(churn, "churn", "binary", seed=7)
    dirs = {name: tmp_path / name for name in contract.PREPROCESS_OUTPUTS}
    # WHEN the outputs are written
    write_outputs(result, dirs)
    # THEN every split has the encoded target first and the transformer's columns after it
    transformer = FeatureTransformer.from_json((dirs["train"] / contract.TRANSFORMER_FILE).read_text())
    files = {"train": contract.TRAIN_FILE, "validation": contract.VALIDATION_FILE, "test": contract.TEST_FILE}
    for name, file in files.items():
        written = pd.read_csv(dirs[name] / file)
        assert list(written.columns) == [contract.TARGET_COLUMN_IN_SPLITS, *transformer.output_names]
        assert set(written[contract.TARGET_COLUMN_IN_SPLITS].unique()) <= {0.0, 1.0}
    raw_test = pd.read_csv(dirs["test"] / TEST_RAW_FILE)
    assert list(raw_test.columns) == list(churn.columns)
    assert len(raw_test) == len(pd.read_csv(dirs["test"] / contract.TEST_FILE))
    statistics = json.loads((dirs["baseline"] / contract.BASELINE_STATISTICS_FILE).read_text())
    assert [f["name"] for f in statistics["features"]] == transformer.feature_names  # target excluded
    assert json.loads((dirs["baseline"] / contract.BASELINE_CONSTRAINTS_FILE).read_text())["features"]


def test_split_files_round_trip_the_float32_features_exactly(tmp_path: Path, churn: pd.DataFrame) -> None:
    result = preprocess(churn, "churn", "binary")
    write_outputs(result, {name: tmp_path / name for name in contract.PREPROCESS_OUTPUTS})
    back = pd.read_csv(tmp_path / "test" / contract.TEST_FILE).drop(
        columns=[contract.TARGET_COLUMN_IN_SPLITS]
    )
    served = result.transformer.transform_frame(result.test_raw)
    np.testing.assert_array_equal(back.to_numpy(dtype=np.float32), served)


def test_transformer_and_baseline_see_the_training_split_only(churn: pd.DataFrame) -> None:
    result = preprocess(churn, "churn", "binary", seed=5)
    raw_train, _, _ = split(churn, "churn", "binary", validation_fraction=0.15, test_fraction=0.15, seed=5)
    assert result.transformer == FeatureTransformer.fit(raw_train, "churn", "binary")
    assert result.transformer != FeatureTransformer.fit(churn, "churn", "binary")  # the check can tell
    assert result.statistics["dataset"]["item_count"] == len(raw_train)


# ----------------------------------------------------------------- main
def test_main_maps_the_processing_container(
    tmp_path: Path, churn: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(tmp_path))
    data = tmp_path / "processing" / "input" / "data"
    data.mkdir(parents=True)
    churn.to_csv(data / "churn.csv", index=False)
    assert main(["--target-column", "churn", "--problem-type", "binary", "--seed", "1"]) == 0
    for out in ("train/train.csv", "train/transformer.json", "test/test_raw.csv", "baseline/statistics.json"):
        assert (tmp_path / "processing" / "output" / out).is_file()


def test_main_reports_a_missing_target_in_the_message_file(
    tmp_path: Path, churn: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(tmp_path))
    churn.to_csv(tmp_path / "churn.csv", index=False)
    code = main(["--target-column", "label", "--problem-type", "binary", "--input-dir", str(tmp_path),
                 "--output-root", str(tmp_path / "out")])  # fmt: skip
    assert code == 1
    message = (tmp_path / "output" / "message").read_text()
    assert "target column 'label' not found; columns found: ['tenure_months'" in message


# ----------------------------------------------------------------- smoke samples
def test_smoke_samples_are_raw_test_records_without_the_target(tmp_path: Path, churn: pd.DataFrame) -> None:
    # GIVEN preprocessed churn data with a missing value in the test split
    result = preprocess(churn, "churn", "binary", seed=7)
    result.test_raw.loc[0, "monthly_charges"] = np.nan
    # WHEN the outputs are written
    write_outputs(result, {name: tmp_path / name for name in contract.PREPROCESS_OUTPUTS})
    # THEN the test dir holds up to 50 raw test records, original names and values, no target
    samples = json.loads((tmp_path / "test" / contract.SMOKE_SAMPLES_FILE).read_text())
    assert len(samples) == min(SMOKE_SAMPLES, len(result.test_raw))
    features = [c for c in churn.columns if c != "churn"]
    assert all(list(record) == features for record in samples)
    assert samples[0]["monthly_charges"] is None  # missing stays missing (JSON null)
    assert samples[1] == result.test_raw.drop(columns=["churn"]).iloc[1].to_dict()


def test_smoke_samples_are_capped(churn: pd.DataFrame) -> None:
    frame = pd.concat([churn] * 2, ignore_index=True)
    assert len(smoke_samples(frame, "churn", limit=5)) == 5
    assert len(smoke_samples(frame.head(3), "churn")) == 3
