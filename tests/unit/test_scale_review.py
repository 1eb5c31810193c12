"""Edges of the scale-out data path found in review (issue 14): what a host holds while merging the
hosts' profiles, and what a bad raw file's message names."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from emulator.inputs import SHARDED_BY_S3_KEY, download_input
from emulator.jobs import JobContext, StepFailedError
from emulator.local_aws import moto_server
from ml_code.cluster import Cluster
from ml_code.container import MAX_FAILURE_CHARS
from ml_code.contract import COLLECTIVE_PORT_ENV, HOST_ADDRESSES_ENV
from ml_code.contract import RAW_DATA_DIR as RAW
from ml_code.errors import DataValidationError
from ml_code.sample_data import generate
from ml_code.steps.baseline import suggest_constraints
from ml_code.steps.chunks import read_chunks
from ml_code.steps.collective import CollectiveError, collective
from ml_code.steps.feature_profile import CATEGORY_CAP
from ml_code.steps.preprocess import load_profiles
from ml_code.steps.profile import Profile, Settings, profile_chunks
from ml_code.steps.profile_fit import profile_statistics


def test_preprocess_holds_at_most_two_hosts_profiles_while_merging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the Profile step's profiles of four hosts (each up to sampleRows raw rows)
    data = generate(400, seed=5)
    settings = Settings(tuple(data.columns), "churn", "binary", sample_rows=50)
    hosts = [f"algo-{i}" for i in range(1, 5)]
    for i, host in enumerate(hosts):
        data.iloc[i::4].to_csv(tmp_path / f"{host}.csv", index=False)
        profile = profile_chunks(read_chunks([tmp_path / f"{host}.csv"], 30), settings)
        (tmp_path / f"{host}.json").write_text(json.dumps(profile.to_dict()))
    events: list[str] = []
    real_load, real_merge = Profile.from_dict.__func__, Profile.merge  # type: ignore[attr-defined]

    def spy_load(cls: type[Profile], content: dict[str, Any]) -> Profile:
        events.append("load")
        loaded: Profile = real_load(cls, content)
        return loaded

    def spy_merge(self: Profile, other: Profile) -> Profile:
        events.append("merge")
        return real_merge(self, other)

    monkeypatch.setattr(Profile, "from_dict", classmethod(spy_load))
    monkeypatch.setattr(Profile, "merge", spy_merge)
    # WHEN preprocess merges them
    merged = load_profiles(tmp_path, Cluster("algo-1", tuple(hosts)))
    # THEN it is every host's rows, and no more than two hosts' profiles were ever held unmerged:
    # memory does not grow with the number of processing instances
    assert merged is not None
    assert merged.read == 400
    held = [events[: i + 1].count("load") - events[: i + 1].count("merge") for i in range(len(events))]
    assert events.count("load") == 4
    assert max(held) <= 2, events


@pytest.mark.parametrize(
    ("text", "where"),
    [(b"a,b,churn\n\xe9t\xe9,1,0\n", "row"), (b"\xe9t\xe9,b,churn\n1,1,0\n", "header")],
)
def test_a_raw_file_that_is_not_utf8_is_named(tmp_path: Path, text: bytes, where: str) -> None:
    # a latin-1 export: the bad byte in a row or in the header; the message names the file
    (tmp_path / "latin1.csv").write_bytes(text)
    with pytest.raises(DataValidationError, match=r"latin1\.csv is not UTF-8 text"):
        list(read_chunks([tmp_path / "latin1.csv"], 10))


def test_an_s3_key_with_dot_dot_under_an_input_prefix_stays_in_the_input_folder(tmp_path: Path) -> None:
    # GIVEN an object under the raw data prefix whose key climbs out of it (S3 keys may hold "..")
    with moto_server() as aws:
        aws.ensure_bucket("review-bucket")
        aws.client("s3").put_object(Bucket="review-bucket", Key="raw/../../../../escaped.csv", Body=b"x\n1\n")
        jobs = [JobContext(tmp_path / "step", aws, "job", host=f"algo-{i}") for i in (1, 2)]
        # WHEN a 2-host job fetches the prefix, sharded
        with pytest.raises(StepFailedError, match=r"'raw/\.\./\.\./\.\./\.\./escaped\.csv' leaves the input"):
            download_input(jobs, uri="s3://review-bucket/raw/", data_type="S3Prefix",
                           distribution=SHARDED_BY_S3_KEY, container_path=RAW, what="data")  # fmt: skip
    # THEN nothing was written outside the job's folders
    assert not list(tmp_path.parent.glob("escaped.csv"))
    assert not list(tmp_path.rglob("escaped.csv"))


def test_a_feature_past_the_category_cap_gets_no_domain_constraint() -> None:
    # GIVEN a feature with more distinct training values than the cap (IDs), 20 of them repeated:
    # its Misra-Gries summary keeps only those 20
    data = generate(CATEGORY_CAP * 2, seed=6)
    data.insert(0, "account", [f"id{i}" if i % 4 else f"shared{i % 20}" for i in range(len(data))])
    settings = Settings(tuple(data.columns), "churn", "binary", sample_rows=100)
    profile = profile_chunks([data.astype(str)], settings)
    assert profile.features["account"].categories.approximate
    # WHEN the baseline is fitted
    statistics = profile_statistics(profile)
    constraints = suggest_constraints(statistics)
    # THEN it knows the feature has more than the cap of values, and does not turn the summary's
    # survivors into the only values allowed (every new ID would be a violation)
    account = next(f for f in statistics["features"] if f["name"] == "account")
    assert account["string_statistics"]["distinct_count"] > CATEGORY_CAP
    limits = next(f for f in constraints["features"] if f["name"] == "account")
    assert "string_constraints" not in limits


def test_profiles_that_disagree_name_the_host_and_the_setting_within_the_failure_reason(
    tmp_path: Path,
) -> None:
    # GIVEN two hosts' profiles of a wide table, made with different seeds
    columns = (*(f"a_rather_long_feature_name_{i:03d}" for i in range(60)), "churn")
    for host, seed in (("algo-1", 42), ("algo-2", 7)):
        settings = Settings(columns, "churn", "binary", seed=seed)
        (tmp_path / f"{host}.json").write_text(json.dumps(Profile(settings).to_dict()))
    # WHEN preprocess merges them
    with pytest.raises(DataValidationError) as failure:
        load_profiles(tmp_path, Cluster("algo-1", ("algo-1", "algo-2")))
    # THEN what SageMaker shows of the reason says which profile and which setting
    shown = str(failure.value)[:MAX_FAILURE_CHARS]
    assert "algo-2.json" in shown
    assert "seed: 42 vs 7" in shown


def test_a_leader_that_cannot_start_the_tracker_fails_with_a_short_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the collective's port already taken on the leader
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv(COLLECTIVE_PORT_ENV, str(taken.getsockname()[1]))
        monkeypatch.setenv(HOST_ADDRESSES_ENV, json.dumps({"algo-1": "127.0.0.1", "algo-2": "127.0.0.1"}))
        # WHEN the leader starts its tracker
        with pytest.raises(CollectiveError) as failure, collective(Cluster("algo-1", ("algo-1", "algo-2"))):
            pass
    # THEN the reason is XGBoost's own words, without its C++ stack
    assert "Address already in use" in str(failure.value)
    assert "Stack trace" not in str(failure.value)


def test_a_checkpoint_key_with_dot_dot_stays_in_the_checkpoint_folder(tmp_path: Path) -> None:
    # GIVEN a checkpoint prefix holding a key that climbs out of it
    with moto_server() as aws:
        aws.ensure_bucket("review-bucket")
        aws.client("s3").put_object(Bucket="review-bucket", Key="ckpt/../../../../out.json", Body=b"{}")
        destination = tmp_path / "job" / "checkpoints"
        # WHEN the prefix is downloaded (as the runner restores a job's checkpoints)
        with pytest.raises(
            ValueError, match=r"'ckpt/\.\./\.\./\.\./\.\./out\.json' under s3://review-bucket/ckpt/"
        ):
            aws.download_prefix("s3://review-bucket/ckpt/", destination)
    # THEN nothing was written anywhere
    assert not list(tmp_path.rglob("out.json"))


@pytest.mark.parametrize("name", ["../x", "algo-1/..", "", "a b"])
def test_a_host_name_that_could_leave_a_folder_is_refused(name: str) -> None:
    with pytest.raises(DataValidationError, match="host names must be letters, digits and '-'"):
        Cluster(name, (name,))
    with pytest.raises(DataValidationError, match="host names"):
        Cluster("algo-1", ("algo-1", name))
