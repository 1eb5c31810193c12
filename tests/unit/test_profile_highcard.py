"""A feature with more distinct training values than the category cap (an ID): its transformer
categories and baseline buckets come from the bottom-k sample, so one host and two hosts, with any
chunk size, still write byte-identical transformer.json, statistics.json and constraints.json."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from test_profile import run_host

from ml_code.sample_data import generate
from ml_code.steps import feature_profile
from ml_code.steps.profile_fit import scaled

CAP = 1_000  # the cap in this test (10,000 in production): cheap data past it

MODEL_INPUTS = ("transformer/transformer.json", "baseline/statistics.json", "baseline/constraints.json")
SHARED = 30  # IDs that repeat: equally often, so what a Misra-Gries summary keeps depends on the order


def with_ids(rows: int) -> pd.DataFrame:
    """The demo data with an ``account`` column: unique IDs, every other row one of 30 shared ones."""
    data = generate(rows, seed=8)
    data.insert(
        0, "account", [f"shared{i // 2 % SHARED:02d}" if i % 2 == 0 else f"id{i}" for i in range(rows)]
    )
    return data


def run(root: Path, name: str, shares: dict[str, pd.DataFrame], chunk: int, mp: pytest.MonkeyPatch) -> Path:
    """Profile (when more than one host) and preprocess ``shares`` (host -> its rows); the output root."""
    hosts = list(shares)
    for host, rows in shares.items():
        (root / name / "raw" / host).mkdir(parents=True)
        rows.to_csv(root / name / "raw" / host / "part.csv", index=False)
    common = ["--target-column", "churn", "--problem-type", "binary", "--sample-rows", "600",
              "--chunk-rows", str(chunk)]  # fmt: skip
    profiles = ["--profiles-dir", str(root / name / "profiles")] if len(hosts) > 1 else []
    if profiles:
        for host in hosts:
            inputs = ["--input-dir", str(root / name / "raw" / host)]
            run_host(root / name, host, hosts, [*common, *inputs, "--output-dir", profiles[1]], mp)
    for host in hosts:
        inputs = ["--input-dir", str(root / name / "raw" / host), *profiles]
        run_host(root / name, host, hosts, [*common, *inputs, "--output-root", str(root / name / "out")], mp)
    return root / name / "out"


def test_a_feature_past_the_cap_gives_the_same_model_inputs_for_any_hosts_and_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN more distinct training IDs than the cap, 30 of them repeated equally often
    monkeypatch.setattr(feature_profile, "CATEGORY_CAP", CAP)
    data = with_ids(4_000)
    # WHEN one host preprocesses them in chunks of 300 and of 2,000, and two hosts (every other row)
    # profile and preprocess them in chunks of 170
    outs = [
        run(tmp_path, "one-300", {"algo-1": data}, 300, monkeypatch),
        run(tmp_path, "one-2000", {"algo-1": data}, 2_000, monkeypatch),
        run(tmp_path, "two-170", {"algo-1": data.iloc[::2], "algo-2": data.iloc[1::2]}, 170, monkeypatch),
    ]
    # THEN the three write byte-identical transformer and baseline
    for file in MODEL_INPUTS:
        first = (outs[0] / file).read_bytes()
        assert all((out / file).read_bytes() == first for out in outs[1:]), file
    # AND the feature is the one past the cap: its top categories hold the shared IDs, its distinct
    # count says more than the cap, its buckets are the sample's counts scaled to every training row
    spec = next(f for f in json.loads(first_of(outs, MODEL_INPUTS[0]))["features"] if f["name"] == "account")
    assert len(spec["categories"]) == 50
    assert {f"shared{i:02d}" for i in range(SHARED)} <= set(spec["categories"])
    statistics = json.loads(first_of(outs, MODEL_INPUTS[1]))
    account = next(f for f in statistics["features"] if f["name"] == "account")["string_statistics"]
    assert account["distinct_count"] == CAP + 1
    buckets = {b["value"]: b["count"] for b in account["distribution"]["categorical"]["buckets"]}
    rows = statistics["dataset"]["item_count"]
    assert rows > 600
    assert sum(buckets.values()) == account["common"]["num_present"] == rows  # the sample's 600, scaled
    assert sum(buckets[f"shared{i:02d}"] for i in range(SHARED)) == pytest.approx(rows / 2, rel=0.1)
    constraints = json.loads(first_of(outs, MODEL_INPUTS[2]))
    assert "string_constraints" not in next(f for f in constraints["features"] if f["name"] == "account")


def first_of(outs: list[Path], file: str) -> str:
    return (outs[0] / file).read_text(encoding="utf-8")


def test_scaled_counts_add_up_to_the_total_and_keep_the_largest() -> None:
    # three values seen once each, scaled to 10 rows: 3 each, the one left over to the first by value
    assert scaled({"b": 1, "a": 1, "c": 1}, 10, keep=3) == {"a": 4, "b": 3, "c": 3}
    assert scaled({"x": 1, "y": 5}, 12, keep=1) == {"y": 10}
