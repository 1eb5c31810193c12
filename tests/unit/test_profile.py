"""The mergeable profile: row hash and placement, exact sums, category counts, bottom-k samples,
Profile.merge, and the proof that P = 1 and P = 2 hosts write the same transformer and baseline."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml_code import contract
from ml_code.cluster import Cluster
from ml_code.sample_data import generate
from ml_code.steps import preprocess as preprocess_step
from ml_code.steps import profile as profile_step
from ml_code.steps.chunks import common_header, read_chunks
from ml_code.steps.feature_profile import CategoryCounts
from ml_code.steps.moments import SCALE, SQUARE_SCALE, exact_sums, mean_std
from ml_code.steps.preprocess import preprocess_files
from ml_code.steps.preprocess_outputs import PartWriters
from ml_code.steps.profile import Profile, Settings, merge_all, profile_chunks
from ml_code.steps.row_hash import TEST, TRAIN, VALIDATION, place, row_hashes
from ml_code.steps.sample import BottomK

LEADER_FILES = ("transformer/transformer.json", "baseline/statistics.json", "baseline/constraints.json",
                "test/smoke-samples.json")  # fmt: skip


def frame_of_text(data: pd.DataFrame) -> pd.DataFrame:
    return data.astype(str).where(data.notna(), np.nan)


# ----------------------------------------------------------------- row hash and placement
def test_row_hashes_are_pinned_so_a_pandas_change_cannot_move_rows_silently() -> None:
    frame = pd.DataFrame({"x": ["1", "a", np.nan], "y": ["0", "1", "1"]})
    assert row_hashes(frame, 42).tolist() == [10661242576237667947, 7835062997907205018, 14820907924947789053]
    assert row_hashes(frame, 7).tolist() != row_hashes(frame, 42).tolist()  # the seed keys the hash


def test_placement_follows_the_fractions_and_the_row_not_its_position() -> None:
    # GIVEN 20,000 distinct rows, placed as they are and reversed
    frame = pd.DataFrame({"x": [str(i) for i in range(20_000)], "y": ["0", "1"] * 10_000})
    where = place(row_hashes(frame, 1), validation_fraction=0.2, test_fraction=0.1, shards=3)
    back = place(row_hashes(frame[::-1], 1), validation_fraction=0.2, test_fraction=0.1, shards=3)
    # THEN the shares are the fractions, each shard gets a third, and a row keeps its place
    shares = np.bincount(where.split, minlength=3) / len(frame)
    assert shares[TEST] == pytest.approx(0.1, abs=0.01)
    assert shares[VALIDATION] == pytest.approx(0.2, abs=0.01)
    assert np.bincount(where.shard) / len(frame) == pytest.approx([1 / 3] * 3, abs=0.015)
    assert (where.split == back.split[::-1]).all()
    assert (where.shard == back.shard[::-1]).all()


def test_equal_rows_land_in_the_same_split_and_shard() -> None:
    frame = pd.DataFrame({"x": ["5", "5", "6"], "y": ["a", "a", "a"]})
    where = place(row_hashes(frame, 3), validation_fraction=0.3, test_fraction=0.3, shards=4)
    assert where.split[0] == where.split[1]
    assert where.shard[0] == where.shard[1]
    assert where.rank[0] == where.rank[1]


@pytest.mark.parametrize(("val", "test"), [(0.0, 0.2), (0.5, 0.5), (0.2, 1.2)])
def test_placement_rejects_bad_fractions(val: float, test: float) -> None:
    with pytest.raises(ValueError, match="fractions must be in"):
        place(np.zeros(1, dtype=np.uint64), validation_fraction=val, test_fraction=test)


# ----------------------------------------------------------------- exact sums
def test_exact_sums_are_exact_and_add_up_over_any_cut() -> None:
    values = np.r_[np.random.default_rng(1).normal(1e8, 1, 500), [-3.5, 0.0, 5e-324, 1e300, -1e300]]
    total, squares = exact_sums(values)
    assert Fraction(total, 2**SCALE) == sum(map(Fraction, values.tolist()))
    assert Fraction(squares, 2**SQUARE_SCALE) == sum(Fraction(v) ** 2 for v in values.tolist())
    left, right = exact_sums(values[:123]), exact_sums(values[123:])
    assert (left[0] + right[0], left[1] + right[1]) == (total, squares)


def test_mean_and_std_from_exact_sums_match_numpy() -> None:
    values = np.random.default_rng(2).normal(1e8, 1, 1000)
    _, mean, std = mean_std(len(values), *exact_sums(values))
    assert mean == pytest.approx(values.mean(), rel=1e-15)
    assert std == pytest.approx(values.std(), rel=1e-9)  # no cancellation despite the large mean


# ----------------------------------------------------------------- category counts and samples
def test_category_counts_are_exact_under_the_cap_and_a_bounded_summary_beyond() -> None:
    a = CategoryCounts.of(pd.Series(["x", "x", "y"]), cap=3)
    b = CategoryCounts.of(pd.Series(["y", "z"]), cap=3)
    assert a.merge(b) == b.merge(a)
    assert a.merge(b).counts == {"x": 2, "y": 2, "z": 1}
    assert not a.merge(b).approximate
    # GIVEN a heavy value among 100 distinct rare ones, counted with 3 counters
    values = pd.Series(["heavy"] * 300 + [f"v{i}" for i in range(100)])
    summary = CategoryCounts.of(values, cap=3)
    # THEN the heavy value survives, low by at most rows / (cap + 1)
    assert summary.approximate
    assert 300 - len(values) / 4 <= summary.counts["heavy"] <= 300


def test_bottom_k_is_the_k_smallest_ranks_whatever_the_chunks() -> None:
    ranks = np.random.default_rng(3).permutation(1000).astype(np.uint64)
    rows = pd.DataFrame({"v": [str(r) for r in ranks]})
    whole = BottomK(10, ["v"])
    whole.add(ranks, rows)
    parts = [BottomK(10, ["v"]) for _ in range(3)]
    for i, part in enumerate(parts):
        part.add(ranks[i::3], rows[i::3])
    merged = parts[2].merge(parts[0]).merge(parts[1])
    assert whole.ranks.tolist() == merged.ranks.tolist() == list(range(10))
    assert merged.rows["v"].tolist() == [str(r) for r in range(10)]


# ----------------------------------------------------------------- Profile
@pytest.fixture
def settings() -> Settings:
    return Settings(tuple(generate(1, seed=0).columns), "churn", "binary", sample_rows=100)


def profile_of(data: pd.DataFrame, settings: Settings, chunk: int) -> Profile:
    text = frame_of_text(data)
    return profile_chunks((text.iloc[i : i + chunk] for i in range(0, len(text), chunk)), settings)


def test_merge_is_the_profile_of_all_rows_in_any_order(settings: Settings) -> None:
    data = generate(900, seed=4)
    a, b, c = (profile_of(data.iloc[i::3], settings, 50) for i in range(3))
    whole = profile_of(data, settings, 400).to_dict()
    assert a.merge(b).merge(c).to_dict() == whole
    assert c.merge(a.merge(b)).to_dict() == whole
    assert Profile.from_dict(json.loads(json.dumps(whole))).to_dict() == whole


def test_profiles_with_other_settings_do_not_merge(settings: Settings) -> None:
    other = Settings(settings.columns, "churn", "binary", seed=1, sample_rows=100)
    with pytest.raises(ValueError, match="profiles disagree"):
        Profile(settings).merge(Profile(other))


# ----------------------------------------------------------------- the steps, P = 1 vs P = 2
def run_host(
    root: Path, host: str, hosts: list[str], argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    opt_ml = root / host
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(opt_ml))
    config = opt_ml / "config" / "resourceconfig.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"current_host": host, "hosts": hosts}))
    assert profile_step.main(argv) == 0 if "--output-dir" in argv else preprocess_step.main(argv) == 0


def test_one_host_and_two_hosts_write_the_same_model_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the demo's rows in one host's folder (two files), and the same rows dealt over two hosts
    data = generate(1500, seed=11)
    for name, rows in {"one/a.csv": data.iloc[:700], "one/b.csv": data.iloc[700:],
                       "algo-1/a.csv": data.iloc[::2], "algo-2/b.csv": data.iloc[1::2]}.items():  # fmt: skip
        (tmp_path / "raw" / name).parent.mkdir(parents=True, exist_ok=True)
        rows.to_csv(tmp_path / "raw" / name, index=False)
    common = ["--target-column", "churn", "--problem-type", "binary", "--sample-rows", "300", "--chunk-rows"]
    # WHEN P = 1 preprocesses alone, and P = 2 profiles each share, then preprocesses with the profiles
    run_host(tmp_path / "p1", "algo-1", ["algo-1"], [*common, "400", "--shards", "2",
             "--input-dir", str(tmp_path / "raw" / "one"), "--output-root", str(tmp_path / "out1")],
             monkeypatch)  # fmt: skip
    hosts = ["algo-1", "algo-2"]
    for host in hosts:
        run_host(tmp_path / "p2", host, hosts, [*common, "170", "--input-dir", str(tmp_path / "raw" / host),
                 "--output-dir", str(tmp_path / "profiles")], monkeypatch)  # fmt: skip
    for host in hosts:
        run_host(tmp_path / "p2", host, hosts, [*common, "170", "--shards", "2", "--input-dir",
                 str(tmp_path / "raw" / host), "--profiles-dir", str(tmp_path / "profiles"),
                 "--output-root", str(tmp_path / "out2")], monkeypatch)  # fmt: skip
    # THEN the leader files are byte-identical, and each split holds the same rows
    for file in LEADER_FILES:
        assert (tmp_path / "out1" / file).read_bytes() == (tmp_path / "out2" / file).read_bytes(), file
    assert sorted(p.name for p in (tmp_path / "out2" / "train").iterdir()) == [
        "part-algo-1-00.csv", "part-algo-1-01.csv", "part-algo-2-00.csv", "part-algo-2-01.csv"]  # fmt: skip
    for split in ("train", "validation", "test"):
        one, two = (pd.concat(pd.read_csv(p) for p in sorted((tmp_path / out / split).glob("part-*.csv")))
                    for out in ("out1", "out2"))  # fmt: skip
        assert len(one) > 0
        pd.testing.assert_frame_equal(sort_rows(one), sort_rows(two))
    train_sample = json.loads((tmp_path / "profiles" / "algo-1.json").read_text())["sample"]
    assert len(train_sample["ranks"]) == 300  # the sample was smaller than the training split


def sort_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def test_each_shard_file_holds_the_rows_its_hash_names(tmp_path: Path, settings: Settings) -> None:
    data = generate(600, seed=2)
    data.to_csv(tmp_path / "raw.csv", index=False)
    dirs = {name: tmp_path / name for name in contract.PREPROCESS_OUTPUTS}
    cluster = Cluster("algo-1", ("algo-1",))
    preprocess_files([tmp_path / "raw.csv"], settings, dirs, cluster=cluster, chunk_rows=100, shards=3)
    text = frame_of_text(pd.read_csv(tmp_path / "raw.csv", dtype=str))
    cuts = profile_chunks([text], settings).finish().cuts  # binary: each class's own cuts (steps/strata.py)
    where = settings.place(text, 3, cuts)
    for shard in range(3):
        written = pd.read_csv(dirs["train"] / f"part-algo-1-{shard:02d}.csv")
        assert len(written) == int(((where.split == TRAIN) & (where.shard == shard)).sum())
        assert written["tenure_months"].tolist() == data["tenure_months"][
            (where.split == TRAIN) & (where.shard == shard)].astype(float).tolist()  # fmt: skip


def test_no_step_holds_more_than_a_chunk_and_the_sample(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a file 20 times the chunk, and spies on every frame the two passes handle
    generate(2_000, seed=1).to_csv(tmp_path / "raw.csv", index=False)
    handled: list[int] = []
    add, write, sample = Profile.add, PartWriters.write, BottomK.add

    def spy_add(self: Profile, chunk: pd.DataFrame) -> None:
        handled.append(len(chunk))
        add(self, chunk)

    def spy_write(self: PartWriters, split: str, shard: int, frame: pd.DataFrame) -> None:
        handled.append(len(frame))
        write(self, split, shard, frame)

    def spy_sample(self: BottomK, ranks: np.ndarray, rows: pd.DataFrame) -> None:  # type: ignore[type-arg]
        sample(self, ranks, rows)
        handled.append(len(self.rows))

    monkeypatch.setattr(Profile, "add", spy_add)
    monkeypatch.setattr(PartWriters, "write", spy_write)
    monkeypatch.setattr(BottomK, "add", spy_sample)
    # WHEN it is preprocessed in chunks of 100 rows with a sample of 100
    dirs = {name: tmp_path / name for name in contract.PREPROCESS_OUTPUTS}
    sizes = preprocess_files([tmp_path / "raw.csv"], settings, dirs, cluster=Cluster("algo-1", ("algo-1",)),
                             chunk_rows=100)  # fmt: skip
    # THEN every frame it handled had at most 100 rows, though it wrote all 2,000
    assert sum(sizes.values()) == 2_000
    assert len(handled) > 40
    assert max(handled) <= 100


def test_the_profile_step_writes_its_hosts_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generate(200, seed=1).to_csv(tmp_path / "raw.csv", index=False)
    argv = ["--target-column", "churn", "--problem-type", "binary", "--input-dir", str(tmp_path)]
    run_host(
        tmp_path, "algo-2", ["algo-1", "algo-2"], [*argv, "--output-dir", str(tmp_path / "out")], monkeypatch
    )
    profile = Profile.from_dict(json.loads((tmp_path / "out" / "algo-2.json").read_text()))
    header = common_header([tmp_path / "raw.csv"])
    expected = merge_all([profile_chunks(read_chunks([tmp_path / "raw.csv"], 50), profile.settings)])
    assert list(profile.settings.columns) == header
    assert profile.to_dict() == expected.to_dict()
    # a host's profile holds the rows that wait for their class's cuts until the merged one is finished
    assert sum(profile.finish().rows.values()) == 200


def test_a_host_without_raw_files_writes_header_only_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN two hosts, and one raw file, which a sharded input gives algo-1 alone
    (tmp_path / "raw" / "algo-1").mkdir(parents=True)
    (tmp_path / "raw" / "algo-2").mkdir()
    generate(300, seed=1).to_csv(tmp_path / "raw" / "algo-1" / "raw.csv", index=False)
    common = ["--target-column", "churn", "--problem-type", "binary"]
    hosts = ["algo-1", "algo-2"]
    # WHEN both profile their share, then preprocess it
    for host in hosts:
        inputs = ["--input-dir", str(tmp_path / "raw" / host)]
        run_host(
            tmp_path, host, hosts, [*common, *inputs, "--output-dir", str(tmp_path / "profiles")], monkeypatch
        )
    for host in hosts:
        inputs = ["--input-dir", str(tmp_path / "raw" / host), "--profiles-dir", str(tmp_path / "profiles")]
        outputs = ["--shards", "2", "--output-root", str(tmp_path / "out")]
        run_host(tmp_path, host, hosts, [*common, *inputs, *outputs], monkeypatch)
    # THEN algo-2's parts are the header alone, and the rows are algo-1's
    empty = pd.read_csv(tmp_path / "out" / "train" / "part-algo-2-01.csv")
    full = pd.read_csv(tmp_path / "out" / "train" / "part-algo-1-01.csv")
    assert list(empty.columns) == list(full.columns)
    assert empty.empty
    assert not full.empty
    assert pd.read_csv(tmp_path / "out" / "test" / "raw-algo-2.csv").columns.tolist()[-1] == "churn"
