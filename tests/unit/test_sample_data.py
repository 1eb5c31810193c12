"""The churn generator: deterministic, realistic (missing values, imbalance, signal), drift knob."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import xgboost as xgb
from sklearn.metrics import roc_auc_score

from ml_code.features import FeatureTransformer
from ml_code.sample_data import BLOCK_ROWS, TARGET, generate, main, stream_chunks, write_csv


def test_same_seed_same_frame_and_other_seed_differs() -> None:
    pd.testing.assert_frame_equal(generate(200, seed=7), generate(200, seed=7))
    assert not generate(200, seed=7).equals(generate(200, seed=8))


def test_frame_has_numeric_categorical_and_missing_values() -> None:
    frame = generate(2000, seed=0)
    assert TARGET in frame.columns
    numeric = frame.select_dtypes("number").columns.drop(TARGET)
    categorical = frame.select_dtypes(exclude="number").columns
    assert len(numeric) >= 4
    assert len(categorical) >= 3
    assert frame.isna().any().sum() >= 3  # several columns with gaps
    assert set(frame[TARGET].unique()) == {0, 1}


def test_churn_is_imbalanced_around_twenty_percent() -> None:
    assert 0.17 <= generate(4000, seed=3)[TARGET].mean() <= 0.23


def test_signal_is_learnable() -> None:
    # GIVEN a small train/test split of the data
    train, test = generate(1500, seed=11), generate(600, seed=12)
    transformer = FeatureTransformer.fit(train, TARGET, "binary")
    # WHEN a quick booster learns it
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 3, "eta": 0.2, "seed": 0},
        xgb.DMatrix(transformer.transform_frame(train), transformer.encode_target(train[TARGET])),
        num_boost_round=40,
    )
    # THEN it ranks churners well above chance (the generator is meant for AUC ~0.8-0.9)
    scores = booster.predict(xgb.DMatrix(transformer.transform_frame(test)))
    assert roc_auc_score(test[TARGET], scores) > 0.75


def test_drift_shifts_numeric_and_categorical_distributions() -> None:
    base, drifted = generate(3000, seed=5), generate(3000, seed=5, drift=1.0)
    assert drifted["monthly_charges"].mean() > base["monthly_charges"].mean() + 10
    assert drifted["tenure_months"].mean() < base["tenure_months"].mean()
    share = lambda f: (f["contract"] == "Month-to-month").mean()  # noqa: E731
    assert share(drifted) > share(base) + 0.15
    assert list(drifted.columns) == list(base.columns)


def test_rows_must_be_positive() -> None:
    with pytest.raises(ValueError, match="rows must be at least 1, got 0"):
        generate(0, seed=1)


def test_cli_writes_the_csv(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "churn.csv"
    assert main(["--rows", "50", "--seed", "4", "--drift", "0.5", "--out", str(out)]) == 0
    expected = generate(50, seed=4, drift=0.5)
    written = pd.read_csv(out)
    assert list(written.columns) == list(expected.columns)
    assert len(written) == 50
    pd.testing.assert_series_equal(written["monthly_charges"], expected["monthly_charges"])
    pd.testing.assert_series_equal(written["contract"], expected["contract"])


def test_cli_rejects_non_positive_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--rows", "0", "--out", str(tmp_path / "x.csv")])
    assert "--rows must be at least 1" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


# ----------------------------------------------------------------- streaming (write_csv)


def _read_all(paths: list[Path]) -> pd.DataFrame:
    return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)


def test_streamed_rows_do_not_depend_on_the_chunk_size(tmp_path: Path) -> None:
    # GIVEN one seed and row count, written with very different chunk sizes
    rows = 2 * BLOCK_ROWS + 337  # a partial last block too
    outputs = {}
    for chunk in (1, BLOCK_ROWS, 3 * BLOCK_ROWS + 5):
        path = tmp_path / f"c{chunk}.csv"
        # WHEN each is streamed to one file
        assert write_csv(path, rows, seed=9, chunk_rows=chunk) == [rows]
        outputs[chunk] = path.read_bytes()
    # THEN the files are byte-identical, and another seed gives other rows
    assert len(set(outputs.values())) == 1
    write_csv(tmp_path / "other.csv", rows, seed=10)
    assert (tmp_path / "other.csv").read_bytes() != outputs[1]


def test_several_files_hold_the_same_rows_as_one_dealt_by_block(tmp_path: Path) -> None:
    # GIVEN the same stream written to one file and to three
    rows = 5 * BLOCK_ROWS + 10
    one = tmp_path / "one.csv"
    write_csv(one, rows, seed=2, chunk_rows=2 * BLOCK_ROWS)
    three = [tmp_path / f"part-{i}.csv" for i in range(3)]
    # WHEN
    counts = write_csv(three, rows, seed=2, chunk_rows=2 * BLOCK_ROWS)
    # THEN block i went to file i mod 3, every file has the header, and together they are the one file
    assert counts == [2 * BLOCK_ROWS, 2 * BLOCK_ROWS, BLOCK_ROWS + 10]
    whole = pd.read_csv(one)
    parts = [pd.read_csv(p) for p in three]
    assert [len(p) for p in parts] == counts
    assert all(list(p.columns) == list(whole.columns) for p in parts)
    pd.testing.assert_frame_equal(
        parts[1].head(BLOCK_ROWS), whole.iloc[BLOCK_ROWS : 2 * BLOCK_ROWS].reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(
        _read_all(three).sort_values(list(whole.columns)).reset_index(drop=True),
        whole.sort_values(list(whole.columns)).reset_index(drop=True),
    )


def test_more_files_than_blocks_leaves_header_only_files(tmp_path: Path) -> None:
    paths = [tmp_path / f"f{i}.csv" for i in range(3)]
    assert write_csv(paths, 10, seed=1) == [10, 0, 0]
    assert pd.read_csv(paths[2]).empty
    assert list(pd.read_csv(paths[2]).columns) == list(generate(1, seed=1).columns)


def test_stream_memory_is_bounded_by_the_chunk() -> None:
    # GIVEN a stream of 10 blocks made 3 blocks at a time
    chunks = list(stream_chunks(10 * BLOCK_ROWS, seed=4, chunk_rows=3 * BLOCK_ROWS + 1))
    # THEN no chunk holds more than 3 blocks, and the blocks come in order, each once
    assert [len(c) for c in chunks] == [3, 3, 3, 1]
    assert [b for c in chunks for b, _ in c] == list(range(10))
    assert all(len(frame) == BLOCK_ROWS for c in chunks for _, frame in c)


def test_streamed_data_has_the_generators_shape_and_signal_rate(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    write_csv(path, 6000, seed=3)
    frame = pd.read_csv(path)
    assert list(frame.columns) == list(generate(10, seed=3).columns)
    assert 0.17 <= frame[TARGET].mean() <= 0.23
    assert frame.isna().any().sum() >= 3


@pytest.mark.parametrize(
    ("rows", "chunk", "message"), [(0, 10, "rows must be"), (5, 0, "chunk_rows must be")]
)
def test_stream_rejects_non_positive_sizes(tmp_path: Path, rows: int, chunk: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_csv(tmp_path / "x.csv", rows, seed=1, chunk_rows=chunk)
    assert not list(tmp_path.iterdir())  # nothing written


def test_cli_streams_into_numbered_files(tmp_path: Path) -> None:
    out = tmp_path / "data" / "churn.csv"
    assert (
        main(["--rows", "2500", "--seed", "5", "--out", str(out), "--files", "2", "--chunk-rows", "700"]) == 0
    )
    written = sorted(p.name for p in out.parent.iterdir())
    assert written == ["churn-00.csv", "churn-01.csv"]
    expected = [tmp_path / "a.csv", tmp_path / "b.csv"]
    write_csv(expected, 2500, seed=5)
    assert [(out.parent / n).read_bytes() for n in written] == [p.read_bytes() for p in expected]


def test_cli_rejects_non_positive_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--rows", "10", "--files", "0", "--out", str(tmp_path / "x.csv")])
    assert "--files must be at least 1, got 0" in capsys.readouterr().err
