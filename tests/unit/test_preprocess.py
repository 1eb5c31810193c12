"""Preprocess: reading, validation messages, the hash split, the written contract, main()."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml_code import contract
from ml_code.errors import DataValidationError
from ml_code.features import FeatureTransformer
from ml_code.sample_data import generate
from ml_code.steps.baseline import compute_statistics
from ml_code.steps.chunks import raw_files, read_chunks
from ml_code.steps.preprocess import SMOKE_SAMPLES, main, preprocess, write_outputs
from ml_code.steps.profile import Settings, profile_chunks
from ml_code.steps.row_hash import SPLITS, place, row_hashes


@pytest.fixture
def churn() -> pd.DataFrame:
    return generate(300, seed=3)


def raw_split(frame: pd.DataFrame, name: str, seed: int = 42) -> pd.DataFrame:
    """The rows of churn data ``frame`` Preprocess puts in split ``name`` (default fractions; binary:
    each class by its own cuts, which the profile of all rows sets)."""
    text = pd.read_csv(io.StringIO(frame.to_csv(index=False)), dtype=str)
    settings = Settings(tuple(text.columns), "churn", "binary", seed=seed)
    where = settings.place(text, cuts=profile_chunks([text], settings).finish().cuts)
    part: pd.DataFrame = frame[where.split == SPLITS[name]].reset_index(drop=True)
    return part


# ----------------------------------------------------------------- reading
def test_read_chunks_reads_every_csv_at_any_depth(tmp_path: Path, churn: pd.DataFrame) -> None:
    (tmp_path / "part").mkdir()
    churn.iloc[:100].to_csv(tmp_path / "a.csv", index=False)
    churn.iloc[100:].to_csv(tmp_path / "part" / "b.csv", index=False)
    chunks = list(read_chunks(raw_files(tmp_path), 64))
    assert sum(map(len, chunks)) == 300
    assert max(map(len, chunks)) == 64
    assert all(isinstance(v, str) for v in chunks[0]["monthly_charges"])  # raw text, typed later


def test_reading_without_csv_lists_what_it_found(tmp_path: Path) -> None:
    (tmp_path / "data.parquet").write_bytes(b"x")
    with pytest.raises(DataValidationError, match=r"no CSV file under .*; files found: \['data.parquet'\]"):
        raw_files(tmp_path)


def test_reading_rejects_an_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataValidationError, match=r"empty.csv is empty \(no header, no rows\)"):
        list(read_chunks(raw_files(tmp_path), 10))


def test_reading_rejects_files_with_different_columns(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x,y\n1,0\n")
    (tmp_path / "b.csv").write_text("x,z\n1,0\n")
    with pytest.raises(
        DataValidationError, match=r"b.csv has columns \['x', 'z'\], but a.csv has \['x', 'y'\]"
    ):
        list(read_chunks(raw_files(tmp_path), 10))


# ----------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("frame", "problem", "message"),
    [
        (pd.DataFrame({"x": [1], "label": [0]}), "binary",
         r"target column 'y' not found; columns found: \['x', 'label'\]"),
        (pd.DataFrame({"x": [], "y": []}), "binary", r"has a header \(\['x', 'y'\]\) but no rows"),
        (pd.DataFrame({"y": [0, 1]}), "binary", "no feature columns besides the target 'y'"),
        (pd.DataFrame({"x": [1, 2], "gone": [None, None], "y": [None, None]}), "binary",
         r"columns with no values at all \(every row missing\): \['y'\]"),
        (pd.DataFrame({"x": [1, 2, 3], "y": [1.5, "high", 2]}), "regression",
         r"regression target 'y' has non-numeric values, e.g. \['high'\]"),
        (pd.DataFrame({"x": [1, 2, 3], "y": [1, 1, 1]}), "binary", "needs 2\\+ distinct labels, found 1"),
        (pd.DataFrame({"x": range(9), "y": [0, 1, 2] * 3}), "binary",
         r"binary target 'y' has 3 labels \['0', '1', '2'\]; use --problem-type multiclass"),
        (pd.DataFrame({"x": range(400), "y": range(400)}), "multiclass",
         "has 400 distinct labels; use --problem-type regression"),
        (pd.DataFrame({"x": range(7), "y": [0, 0, 0, 0, 0, 1, 1]}), "binary",
         r"labels \['1'\] of 'y' have fewer than 3 rows"),
        (pd.DataFrame({"x": range(6), "y": [0.5, 1, 0.5, 1, 0.5, 1]}), "binary",
         r"target 'y' has non-integer numeric labels"),
        (pd.DataFrame({"x": range(6), "y": [0, 0, 0, 1, 1, 1]}), "binary",
         r"cannot split 6 rows: the .* split got none \(validation fraction 0.15, test fraction 0.15"),
    ],
)  # fmt: skip
def test_preprocess_names_each_problem(frame: pd.DataFrame, problem: str, message: str) -> None:
    with pytest.raises(DataValidationError, match=message):
        preprocess(frame, "y", problem)


def test_a_label_without_training_rows_is_named() -> None:
    # GIVEN a label whose 3 rows all hash outside the training split (test + validation = 90%)
    frame = pd.DataFrame({"x": range(60), "y": ["a"] * 57 + ["b"] * 3})
    with pytest.raises(
        DataValidationError, match=r"labels \['b'\] of 'y' have no rows in the training split"
    ):
        preprocess(frame, "y", "binary", validation_fraction=0.45, test_fraction=0.45, seed=11)


def test_rows_without_a_target_are_dropped(caplog: pytest.LogCaptureFixture, churn: pd.DataFrame) -> None:
    churn["churn"] = churn["churn"].astype(object)
    churn.loc[:9, "churn"] = None
    result = preprocess(churn, "churn", "binary")
    assert sum(len(part) for part in result.splits.values()) == 290
    assert "dropping 10 rows without a 'churn' value" in caplog.text


def test_a_regression_target_may_be_written_as_text() -> None:
    frame = pd.DataFrame({"x": range(60), "y": [f"{i / 2}" for i in range(60)]})
    result = preprocess(frame, "y", "regression")
    targets = pd.concat(result.splits.values())[contract.TARGET_COLUMN_IN_SPLITS]
    assert sorted(targets) == [i / 2 for i in range(60)]


# ----------------------------------------------------------------- the split
def test_split_is_by_row_hash_sized_and_seeded(churn: pd.DataFrame) -> None:
    result = preprocess(churn, "churn", "binary", seed=1)
    sizes = {name: len(part) for name, part in result.splits.items()}
    assert sum(sizes.values()) == 300
    assert sizes["train"] == pytest.approx(210, abs=25)
    assert sizes["test"] == len(raw_split(churn, "test", seed=1))
    again = preprocess(churn.iloc[::-1], "churn", "binary", seed=1)  # the order of rows does not matter
    columns = list(churn.columns)
    pd.testing.assert_frame_equal(
        result.test_raw.sort_values(columns).reset_index(drop=True),
        again.test_raw.sort_values(columns).reset_index(drop=True),
    )
    other = preprocess(churn, "churn", "binary", seed=2)
    assert not other.test_raw.equals(result.test_raw)


def test_split_does_not_depend_on_the_chunk_size(tmp_path: Path, churn: pd.DataFrame) -> None:
    churn.to_csv(tmp_path / "raw.csv", index=False)
    placed = []
    for size in (7, 300):
        chunks = read_chunks([tmp_path / "raw.csv"], size)
        hashes = np.concatenate([row_hashes(chunk, 42) for chunk in chunks])
        placed.append(place(hashes, validation_fraction=0.15, test_fraction=0.15).split.tolist())
    assert placed[0] == placed[1]


# ----------------------------------------------------------------- the fit and the written contract
def test_preprocess_writes_the_contract_files(tmp_path: Path, churn: pd.DataFrame) -> None:
    # GIVEN the churn data preprocessed
    result = preprocess(churn, "churn", "binary", seed=7)
    dirs = {name: tmp_path / name for name in contract.PREPROCESS_OUTPUTS}
    # WHEN the outputs are written
    write_outputs(result, dirs)
    # THEN every split has the encoded target first and the transformer's columns after it
    transformer = FeatureTransformer.from_json((dirs["transformer"] / contract.TRANSFORMER_FILE).read_text())
    for name in ("train", "validation", "test"):
        written = pd.read_csv(dirs[name] / "part-algo-1-00.csv")
        assert list(written.columns) == [contract.TARGET_COLUMN_IN_SPLITS, *transformer.output_names]
        assert set(written[contract.TARGET_COLUMN_IN_SPLITS].unique()) <= {0.0, 1.0}
    raw_test = pd.read_csv(dirs["test"] / "raw-algo-1.csv")
    assert list(raw_test.columns) == list(churn.columns)
    assert len(raw_test) == len(pd.read_csv(dirs["test"] / "part-algo-1-00.csv"))
    statistics = json.loads((dirs["baseline"] / contract.BASELINE_STATISTICS_FILE).read_text())
    assert [f["name"] for f in statistics["features"]] == transformer.feature_names  # target excluded
    assert json.loads((dirs["baseline"] / contract.BASELINE_CONSTRAINTS_FILE).read_text())["features"]


def test_split_files_round_trip_the_float32_features_exactly(tmp_path: Path, churn: pd.DataFrame) -> None:
    result = preprocess(churn, "churn", "binary")
    write_outputs(result, {name: tmp_path / name for name in contract.PREPROCESS_OUTPUTS})
    back = pd.read_csv(tmp_path / "test" / "part-algo-1-00.csv").drop(
        columns=[contract.TARGET_COLUMN_IN_SPLITS]
    )
    served = result.transformer.transform_frame(raw_split(churn, "test"))
    np.testing.assert_array_equal(back.to_numpy(dtype=np.float32), served)


def test_the_fit_from_the_profile_is_the_fit_on_the_training_rows(churn: pd.DataFrame) -> None:
    # GIVEN a training split smaller than the sample: the profile's fit must be the frame's own
    result = preprocess(churn, "churn", "binary", seed=5)
    train = raw_split(churn, "train", seed=5)
    assert result.transformer.to_json() == FeatureTransformer.fit(train, "churn", "binary").to_json()
    assert result.transformer != FeatureTransformer.fit(churn, "churn", "binary")  # the check can tell
    expected = compute_statistics(train.drop(columns=["churn"]))
    assert result.statistics["dataset"]["item_count"] == len(train)
    for ours, theirs in zip(result.statistics["features"], expected["features"], strict=True):
        kind = "numerical_statistics" if "numerical_statistics" in ours else "string_statistics"
        assert ours["inferred_type"] == theirs["inferred_type"]
        for key, value in theirs[kind].items():
            assert ours[kind][key] == (pytest.approx(value) if key in ("mean", "sum", "std_dev") else value)


def test_a_sample_smaller_than_the_training_split_estimates_the_median() -> None:
    frame = pd.DataFrame({"x": np.arange(4000.0), "y": [0, 1] * 2000})
    result = preprocess(frame, "y", "binary", sample_rows=500)
    (spec,) = result.transformer.features
    assert spec["median"] == pytest.approx(2000, abs=200)  # DKW: |F_500 - F| < 0.07 w.p. 0.99
    numbers = result.statistics["features"][0]["numerical_statistics"]
    assert numbers["common"]["num_present"] == result.statistics["dataset"]["item_count"]  # exact counts
    assert numbers["max"] == max(numbers["quantiles"].values())


def test_boolean_spellings_are_one_category(tmp_path: Path) -> None:
    frame = pd.DataFrame({"flag": ["true", "TRUE", "False", "false"] * 30, "x": range(120), "y": [0, 1] * 60})
    result = preprocess(frame, "y", "binary")
    spec = result.transformer.features[0]
    assert (spec["kind"], spec["dtype"], spec["categories"]) == ("categorical", "bool", ["False", "True"])
    assert {r["flag"] for r in result.smoke} <= {True, False}
    train = result.splits["train"]
    assert (train["flag=True"] + train["flag=False"] == 1).all()  # no spelling fell into __other__


# ----------------------------------------------------------------- main
def test_main_maps_the_processing_container(
    tmp_path: Path, churn: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(tmp_path))
    data = tmp_path / "processing" / "input" / "data"
    data.mkdir(parents=True)
    churn.to_csv(data / "churn.csv", index=False)
    assert main(["--target-column", "churn", "--problem-type", "binary", "--seed", "1", "--shards", "2"]) == 0
    for out in ("train/part-algo-1-00.csv", "train/part-algo-1-01.csv", "validation/part-algo-1-01.csv",
                "test/part-algo-1-00.csv", "test/raw-algo-1.csv", "transformer/transformer.json",
                "baseline/statistics.json", "test/smoke-samples.json"):  # fmt: skip
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


def test_main_with_two_hosts_needs_the_profiles(
    tmp_path: Path, churn: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(tmp_path))
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "resourceconfig.json").write_text(
        '{"current_host": "algo-2", "hosts": ["algo-1", "algo-2"]}'
    )
    churn.to_csv(tmp_path / "churn.csv", index=False)
    args = ["--target-column", "churn", "--problem-type", "binary", "--input-dir", str(tmp_path)]
    assert main(args) == 1
    message = (tmp_path / "output" / "message").read_text()
    assert "2 processing hosts need the Profile step's profiles in" in message
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "algo-1.json").write_text("{}")
    assert main([*args, "--profiles-dir", str(tmp_path / "profiles")]) == 1
    assert "profiles of hosts ['algo-1']" in (tmp_path / "output" / "message").read_text()


# ----------------------------------------------------------------- smoke samples
def test_smoke_samples_are_raw_test_records_without_the_target(churn: pd.DataFrame) -> None:
    # GIVEN churn data with a missing value in every other row's monthly charge
    churn.loc[::2, "monthly_charges"] = np.nan
    # WHEN preprocessed
    result = preprocess(churn, "churn", "binary", seed=7)
    # THEN the smoke samples are up to 50 raw test records, original names and typed values, no target
    samples = result.smoke
    assert len(samples) == min(SMOKE_SAMPLES, len(result.test_raw))
    features = [c for c in churn.columns if c != "churn"]
    assert all(list(record) == features for record in samples)
    assert None in [r["monthly_charges"] for r in samples]  # missing: JSON null
    test = raw_split(churn, "test", seed=7)
    first = test[test["tenure_months"] == samples[0]["tenure_months"]].drop(columns=["churn"])
    assert any(
        row == samples[0] for row in first.astype(object).where(first.notna(), None).to_dict("records")
    )
    assert isinstance(samples[0]["tenure_months"], int)
    assert isinstance(samples[0]["age"], float | type(None))


def test_smoke_samples_are_capped_and_do_not_depend_on_the_order(churn: pd.DataFrame) -> None:
    frame = pd.concat([churn] * 2, ignore_index=True)
    result = preprocess(frame, "churn", "binary")
    assert len(result.smoke) == SMOKE_SAMPLES
    assert preprocess(frame.iloc[::-1], "churn", "binary").smoke == result.smoke
