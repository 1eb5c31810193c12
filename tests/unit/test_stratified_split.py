"""The stratified split (steps/strata.py, steps/placement.py): each class in the fractions up to rounding,
the same for any number of hosts and chunk size, keyed rows together, regression as before."""

from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd
import pytest

from ml_code.steps import strata
from ml_code.steps.profile import Profile, Settings, merge_all, profile_chunks, settings_of
from ml_code.steps.row_hash import SPLITS, TEST, TRAIN, VALIDATION, place, row_hashes


def imbalanced(rows: int, positives: float = 0.01, seed: int = 0) -> pd.DataFrame:
    """Raw text rows: a distinct id-like number, a noisy feature, and a 0/1 label with ``positives`` ones."""
    rng = np.random.default_rng(seed)
    label = np.zeros(rows, dtype=int)
    label[rng.choice(rows, size=round(rows * positives), replace=False)] = 1
    frame = pd.DataFrame({"n": np.arange(rows), "x": rng.normal(size=rows).round(3), "y": label})
    return frame.astype(str)


def settings(frame: pd.DataFrame, problem_type: str = "binary", **more: object) -> Settings:
    return Settings(tuple(frame.columns), "y", problem_type, **more)  # type: ignore[arg-type]


def hosts(frame: pd.DataFrame, how: Settings, count: int, chunk: int) -> Profile:
    """The finished merge of ``count`` hosts' profiles, each host reading its rows ``chunk`` at a time."""
    parts = [frame.iloc[i::count] for i in range(count)]
    profiles = [profile_chunks((p.iloc[i : i + chunk] for i in range(0, len(p), chunk)), how) for p in parts]
    return merge_all(profiles).finish()


def half_up(x: float) -> int:
    return math.floor(x + 0.5)


@pytest.mark.parametrize("rows", [300, 30_000])
def test_each_class_splits_in_the_fractions_up_to_rounding(rows: int) -> None:
    # GIVEN 1 % positives
    frame = imbalanced(rows)
    how = settings(frame)
    # WHEN profiled on two hosts and placed
    profile = hosts(frame, how, 2, 1_000)
    where = how.place(frame, cuts=profile.cuts)
    # THEN each class's test and validation rows are its count times the fraction, rounded
    for label, n in frame["y"].value_counts().items():
        split = where.split[(frame["y"] == label).to_numpy()]
        assert (split == TEST).sum() == half_up(n * 0.15), label
        assert (split == TEST).sum() + (split == VALIDATION).sum() == half_up(n * 0.3), label
    # AND the profile counted what the placement does
    counts = {name: int((where.split == code).sum()) for name, code in SPLITS.items()}
    assert profile.rows == counts
    train_labels = frame["y"][where.split == TRAIN].value_counts().to_dict()
    assert profile.train_labels.counts == {str(k): int(v) for k, v in train_labels.items()}


def test_the_split_is_the_same_for_any_number_of_hosts_and_chunk_size() -> None:
    frame = imbalanced(3_000, positives=0.05, seed=1)
    how = settings(frame)
    one = hosts(frame, how, 1, 3_000)
    two = hosts(frame, how, 2, 7)
    three = hosts(frame.iloc[::-1], how, 3, 250)
    assert one.to_dict() == two.to_dict() == three.to_dict()
    first = how.place(frame, cuts=one.cuts).split
    in_chunks = np.concatenate(
        [how.place(frame.iloc[i : i + 11], cuts=two.cuts).split for i in range(0, 3_000, 11)]
    )
    assert (first == in_chunks).all()


def test_a_profile_needs_finishing_before_a_stratified_placement() -> None:
    frame = imbalanced(100)
    with pytest.raises(ValueError, match="cuts"):
        settings(frame).place(frame)


def test_a_tiny_class_and_a_class_past_the_band_bound_stay_consistent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a band bound so small the large class's cut may fall outside its band
    monkeypatch.setattr(strata, "BAND_ROWS", 40)
    frame = imbalanced(20_000, positives=0.001, seed=2)
    how = settings(frame)
    profile = hosts(frame, how, 2, 3_000)
    where = how.place(frame, cuts=profile.cuts)
    # THEN the profile still counts exactly what the placement does (no row counted in the wrong split)
    assert profile.rows["test"] == int((where.split == TEST).sum())
    assert profile.rows["train"] == int((where.split == TRAIN).sum())
    # AND the large class's test share stays within three standard deviations of the fraction
    negatives = (frame["y"] == "0").to_numpy()
    share = (where.split[negatives] == TEST).mean()
    assert abs(share - 0.15) < 3 * math.sqrt(0.15 * 0.85 / negatives.sum())
    # AND the tiny class (20 rows) is exact
    assert (where.split[~negatives] == TEST).sum() == 3


def test_more_classes_than_stratified_fall_back_to_the_fractions() -> None:
    frame = imbalanced(1_000)
    frame["y"] = (np.arange(1_000) % (strata.MAX_STRATA + 1)).astype(str)
    how = settings(frame, "multiclass")
    profile = hosts(frame, how, 2, 100)
    assert profile.cuts == {}
    fixed = place(row_hashes(frame, how.seed), validation_fraction=0.15, test_fraction=0.15)
    assert (how.place(frame, cuts=profile.cuts).split == fixed.split).all()
    assert profile.rows["test"] == int((fixed.split == TEST).sum())


def test_keyed_rows_never_straddle_splits() -> None:
    # GIVEN customers with one to six rows each, labels varying within a customer, and the key declared
    rng = np.random.default_rng(3)
    keys = np.repeat(np.arange(800), rng.integers(1, 7, size=800))
    frame = pd.DataFrame({"customer id": keys, "x": rng.normal(size=len(keys)).round(3),
                          "y": rng.integers(0, 2, size=len(keys))}).astype(str)  # fmt: skip
    args = argparse.Namespace(
        target_column="y", problem_type="binary", validation_fraction=0.15, test_fraction=0.15, seed=42,
        sample_rows=1_000, column=["customer id=identifier"],
    )  # fmt: skip
    how = settings_of(args, list(frame.columns))
    assert not how.stratified
    # WHEN profiled on one host and on two, and placed
    profile = hosts(frame, how, 2, 97)
    assert profile.to_dict() == hosts(frame, how, 1, 5_000).to_dict()
    where = how.place(frame, cuts=profile.cuts)
    # THEN every customer's rows share one split, and the splits are near the fractions
    per_key = pd.Series(where.split).groupby(keys).nunique()
    assert (per_key == 1).all()
    assert 0.10 < (where.split == TEST).mean() < 0.20
    assert profile.rows["test"] == int((where.split == TEST).sum())


def test_rows_without_a_key_are_placed_by_their_own_hash() -> None:
    frame = pd.DataFrame(
        {"id": ["a", "a", None, None, " "], "x": ["1", "1", "2", "3", "4"], "y": ["1.5"] * 5}
    )
    how = settings(frame, "regression", roles=(("id", "identifier"),))
    where = how.place(frame)
    own = place(row_hashes(frame, how.seed), validation_fraction=0.15, test_fraction=0.15)
    assert where.split[0] == where.split[1]
    assert (where.split[2:] == own.split[2:]).all()


def test_regression_places_rows_as_before() -> None:
    frame = imbalanced(2_000)
    frame["y"] = np.linspace(0, 1, 2_000).astype(str)
    how = settings(frame, "regression")
    fixed = place(row_hashes(frame, how.seed), validation_fraction=0.15, test_fraction=0.15, shards=3)
    mine = how.place(frame, 3)
    assert (mine.split == fixed.split).all()
    assert (mine.shard == fixed.shard).all()
    assert profile_chunks([frame], how).finish().cuts is None


def test_labels_written_as_the_same_whole_number_are_one_class() -> None:
    # GIVEN positives written three ways (the model reads 1, 1.0 and 01 as one label)
    frame = imbalanced(30_000, positives=0.05)
    ones = frame.index[frame["y"] == "1"]
    frame.loc[ones[::3], "y"], frame.loc[ones[1::3], "y"] = "1.0", " 01 "
    how = settings(frame)
    # WHEN profiled on two hosts and placed
    profile = hosts(frame, how, 2, 1_000)
    where = how.place(frame, cuts=profile.cuts)
    # THEN the cuts are per class, not per text
    assert profile.cuts is not None
    assert sorted(profile.cuts) == ["0", "1"]
    # AND the class as a whole splits in the fractions up to rounding
    positive = frame["y"].str.strip().isin(["1", "1.0", "01"]).to_numpy()
    split = where.split[positive]
    assert (split == TEST).sum() == half_up(positive.sum() * 0.15)
    assert (split == TEST).sum() + (split == VALIDATION).sum() == half_up(positive.sum() * 0.3)


def test_stratum_keys_merge_whole_numbers_only() -> None:
    labels = pd.Series(["1", "1.0", "01", "1e0", "yes", "1.5", "-2.0", "nan", "inf"])
    assert strata.stratum_keys(labels).tolist() == ["1", "1", "1", "1", "yes", "1.5", "-2", "nan", "inf"]
