"""Jobs of more than one instance run as one local process per host, as SageMaker runs them.

Small scripts stand in for the job's code (no ml_code): each host reports what it was given
(its resourceconfig.json, its share of each input, the cluster env) into a host-named output
file; the tests check what each host saw, what reached S3, how a failing host fails the job,
that a one-instance job keeps its layout, and that two hosts can meet over loopback with
XGBoost's own collective using only what the runner gave them.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.local_aws import LocalAws, moto_server
from emulator.report import summary_lines
from emulator.runner import RunResult, run_pipeline

BUCKET = "hosts-bucket"
CODE = "/opt/ml/processing/input/code"
REPORT = "/opt/ml/processing/output/report"

#: A processing job that records what its host saw (``report``), fails on algo-2 once algo-1
#: is running (``fail``), or runs far past any deadline (``hang``).
PROCESSING_SCRIPT = """
import json, os, pathlib, sys, time
root = pathlib.Path(os.environ["MLOPS_OPT_ML_ROOT"])
config = json.loads((root / "config" / "resourceconfig.json").read_text())
host = config["current_host"]
if sys.argv[1] == "hang":
    (pathlib.Path(os.environ["SHARED"]) / f"{host}.pid").write_text(str(os.getpid()))
    time.sleep(600)
if sys.argv[1] == "fail":
    shared = pathlib.Path(os.environ["SHARED"])
    if host == "algo-2":
        while not (shared / "algo-1.pid").exists():
            time.sleep(0.05)
        (root / "output").mkdir(parents=True, exist_ok=True)
        (root / "output" / "message").write_text("algo-2 found a bad row")
        sys.exit(1)
    (shared / "pid.tmp").write_text(str(os.getpid()))
    (shared / "pid.tmp").rename(shared / "algo-1.pid")
    time.sleep(600)
    sys.exit(0)
inputs = root / "processing" / "input"
def files(name):
    folder = inputs / name
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
out = pathlib.Path(sys.argv[2])
(out / f"{host}.json").write_text(json.dumps({
    "config": config, "root": str(root), "cwd": os.getcwd(),
    "sharded": files("sharded"), "replicated": files("replicated"), "manifest": files("manifest"),
    "addresses": os.environ.get("MLOPS_HOST_ADDRESSES"), "port": os.environ.get("MLOPS_COLLECTIVE_PORT"),
    "sm": sorted(k for k in os.environ if k.startswith("SM_")),
    "omp": os.environ.get("OMP_NUM_THREADS"),
}))
(out / "same.txt").write_text(host)
"""

#: A training job: each host reports its config and shard, writes a model file and a checkpoint
#: of its own; ``fail`` makes algo-2 fail.
TRAINING_SCRIPT = """
import json, os, pathlib, sys
root = pathlib.Path(os.environ["MLOPS_OPT_ML_ROOT"])
config = json.loads((root / "input" / "config" / "resourceconfig.json").read_text())
host = config["current_host"]
if "fail" in sys.argv and host == "algo-2":
    (root / "output" / "failure").write_text("algo-2 ran out of rows")
    sys.exit(1)
checkpoints = root / "checkpoints"
(checkpoints / f"{host}.ckpt").write_text(",".join(sorted(p.name for p in checkpoints.iterdir())))
(root / "model" / f"{host}.txt").write_text(json.dumps({
    "config": config, "train": sorted(p.name for p in (root / "input" / "data" / "train").iterdir()),
}))
"""

#: Two hosts meet with XGBoost's tracker (on the leader) and allreduce their ranks + 1.
COLLECTIVE_SCRIPT = """
import json, os, pathlib, sys
import numpy as np
from xgboost import collective
from xgboost.tracker import RabitTracker
root = pathlib.Path(os.environ["MLOPS_OPT_ML_ROOT"])
config = json.loads((root / "config" / "resourceconfig.json").read_text())
hosts, host = config["hosts"], config["current_host"]
rank = hosts.index(host)
address = json.loads(os.environ["MLOPS_HOST_ADDRESSES"])[hosts[0]]
port = int(os.environ["MLOPS_COLLECTIVE_PORT"])
tracker = None
if rank == 0:
    tracker = RabitTracker(n_workers=len(hosts), host_ip=address, port=port, sortby="task", timeout=60)
    tracker.start()
args = {"dmlc_tracker_uri": address, "dmlc_tracker_port": port, "dmlc_task_id": str(rank), "dmlc_timeout": 60}
with collective.CommunicatorContext(**args):
    total = collective.allreduce(np.array([rank + 1.0]), collective.Op.SUM)
    seen = {"total": float(total[0]), "world": collective.get_world_size(), "rank": collective.get_rank()}
if tracker is not None:
    tracker.wait_for(60)
(pathlib.Path(sys.argv[1]) / f"{host}.json").write_text(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with moto_server() as local:
        local.ensure_bucket(BUCKET)
        put(local, "code/job.py", PROCESSING_SCRIPT.encode())
        put(local, "code/collective.py", COLLECTIVE_SCRIPT.encode())
        put(local, "code/train.py", TRAINING_SCRIPT.encode())
        for name in ("c.csv", "a.csv", "sub/b.csv"):  # sorted by key: a.csv, c.csv, sub/b.csv
            put(local, f"data/{name}", name.encode())
        put(local, "one/only.csv", b"only")
        prefix = f"s3://{BUCKET}/data/"
        put(local, "data.manifest", json.dumps([{"prefix": prefix}, "sub/b.csv", "c.csv", "a.csv"]).encode())
        put(local, "ckpt/start.ckpt", b"resumed")
        yield local


def put(aws: LocalAws, key: str, body: bytes) -> None:
    aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)


def s3_input(name: str, uri: str, local_path: str, distribution: str, data_type: str = "S3Prefix") -> Any:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local_path,
            "S3DataType": data_type,
            "S3InputMode": "File",
            "S3DataDistributionType": distribution,
        },
    }


def processing_step(
    script: str, arguments: list[str], count: int, inputs: list[Any], **environment: str
) -> dict[str, Any]:
    return {
        "Name": "Prep",
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {"InstanceCount": count, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}
            },
            "AppSpecification": {
                "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/image:1",
                "ContainerEntrypoint": ["python3", f"{CODE}/{script}"],
                "ContainerArguments": arguments,
            },
            "Environment": environment,
            "ProcessingInputs": [
                s3_input("code", f"s3://{BUCKET}/code/{script}", CODE, "FullyReplicated"),
                *inputs,
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "report",
                        "S3Output": {
                            "S3Uri": f"s3://{BUCKET}/out",
                            "LocalPath": REPORT,
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 120},
        },
    }


def data_inputs(sharded_prefix: str = "data/") -> list[Any]:
    local = "/opt/ml/processing/input"
    return [
        s3_input("sharded", f"s3://{BUCKET}/{sharded_prefix}", f"{local}/sharded", "ShardedByS3Key"),
        s3_input("replicated", f"s3://{BUCKET}/data/", f"{local}/replicated", "FullyReplicated"),
        s3_input(
            "manifest", f"s3://{BUCKET}/data.manifest", f"{local}/manifest", "ShardedByS3Key", "ManifestFile"
        ),
    ]


def training_step(count: int, *arguments: str, checkpoints: str = "scratch") -> dict[str, Any]:
    def channel(name: str, uri: str, distribution: str) -> dict[str, Any]:
        source = {"S3Uri": uri, "S3DataType": "S3Prefix", "S3DataDistributionType": distribution}
        return {"ChannelName": name, "DataSource": {"S3DataSource": source}}

    return {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {
                "TrainingImage": "xgboost:3.0-5",
                "TrainingInputMode": "File",
                "ContainerEntrypoint": ["python3", "/opt/ml/input/data/code/train.py"],
                "ContainerArguments": list(arguments),
            },
            "ResourceConfig": {"InstanceCount": count, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30},
            "InputDataConfig": [
                channel("train", f"s3://{BUCKET}/data/", "ShardedByS3Key"),
                channel("code", f"s3://{BUCKET}/code/train.py", "FullyReplicated"),
            ],
            "CheckpointConfig": {"S3Uri": f"s3://{BUCKET}/{checkpoints}", "LocalPath": "/opt/ml/checkpoints"},
            "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/models"},
            "StoppingCondition": {"MaxRuntimeInSeconds": 120},
        },
    }


def run(aws: LocalAws, tmp_path: Path, step: dict[str, Any]) -> RunResult:
    definition = {"Version": "2020-12-01", "Parameters": [], "Steps": [step]}
    return run_pipeline(definition, aws, tmp_path, log=lambda _: None)


def seen_by(aws: LocalAws, host: str) -> Any:
    return json.loads(aws.read_object(f"s3://{BUCKET}/out/{host}.json"))


def test_each_host_of_a_processing_job_sees_its_own_config_and_share(aws: LocalAws, tmp_path: Path) -> None:
    # GIVEN a two-instance processing job with a sharded prefix, a replicated one and a sharded manifest
    step = processing_step("job.py", ["report", REPORT], 2, data_inputs())
    # WHEN it runs
    result = run(aws, tmp_path, step)
    # THEN each host ran in its own folder and read its own resourceconfig.json
    assert result.status == "Succeeded", result.failure
    step_dir = result.run_dir / "Prep"
    first, second = seen_by(aws, "algo-1"), seen_by(aws, "algo-2")
    assert first["config"] == {"current_host": "algo-1", "hosts": ["algo-1", "algo-2"]}
    assert second["config"] == {"current_host": "algo-2", "hosts": ["algo-1", "algo-2"]}
    assert (first["root"], second["root"]) == (
        str(step_dir / "algo-1/opt_ml"),
        str(step_dir / "algo-2/opt_ml"),
    )
    assert (first["cwd"], second["cwd"]) == (str(step_dir / "algo-1"), str(step_dir / "algo-2"))
    # ... the sharded inputs dealt by key (a.csv, c.csv, sub/b.csv), the replicated one whole to both
    assert (first["sharded"], second["sharded"]) == (["a.csv", "sub/b.csv"], ["c.csv"])
    assert (first["manifest"], second["manifest"]) == (["a.csv", "sub/b.csv"], ["c.csv"])
    assert first["replicated"] == second["replicated"] == ["a.csv", "c.csv", "sub/b.csv"]
    # ... every host at loopback, one collective port for the job, and no script-mode SM_* variables
    for seen in (first, second):
        assert json.loads(seen["addresses"]) == {"algo-1": "127.0.0.1", "algo-2": "127.0.0.1"}
        assert seen["sm"] == []
    assert first["port"] == second["port"]
    assert int(first["port"]) > 0
    # ... and each its share of this machine's cores (a SageMaker host has its instance's own)
    assert first["omp"] == second["omp"] == str(max(1, (os.cpu_count() or 1) // 2))
    # ... both hosts' outputs went to the output URI; a file both wrote is the last host's
    assert aws.read_object(f"s3://{BUCKET}/out/same.txt") == b"algo-2"
    # ... and the step (record and summary) names its hosts and each host's log
    record = result.step("Prep")
    assert "2 instances: algo-1, algo-2 (2 local processes)" in record.notes
    assert record.host_logs == {"algo-1": step_dir / "algo-1/job.log", "algo-2": step_dir / "algo-2/job.log"}
    lines = summary_lines(result, aws)
    assert "      note: 2 instances: algo-1, algo-2 (2 local processes)" in lines
    assert f"      algo-2 log: {step_dir / 'algo-2/job.log'}" in lines


def test_a_sharded_input_with_fewer_objects_than_hosts_leaves_a_host_empty(
    aws: LocalAws, tmp_path: Path
) -> None:
    # GIVEN three hosts and a sharded prefix holding one object
    step = processing_step("job.py", ["report", REPORT], 3, data_inputs("one/"))
    # WHEN the job runs
    result = run(aws, tmp_path, step)
    # THEN algo-1 got the object, the others an empty folder, and the step says so
    assert result.status == "Succeeded", result.failure
    assert [seen_by(aws, f"algo-{i}")["sharded"] for i in (1, 2, 3)] == [["only.csv"], [], []]
    assert (result.run_dir / "Prep" / "algo-3/opt_ml/processing/input/sharded").is_dir()
    assert (
        "processing input 'sharded' (ShardedByS3Key): 1 object(s) for 3 hosts, "
        "so algo-2, algo-3 got an empty folder (as in SageMaker)"
    ) in result.step("Prep").notes


def test_a_failing_host_fails_the_processing_job_and_stops_the_others(aws: LocalAws, tmp_path: Path) -> None:
    # GIVEN a job whose algo-2 fails while algo-1 is still running (it would sleep for minutes)
    shared = tmp_path / "shared"
    shared.mkdir()
    step = processing_step("job.py", ["fail"], 2, [], SHARED=str(shared))
    # WHEN it runs
    result = run(aws, tmp_path / "runs", step)
    # THEN the job failed with algo-2's message file, naming the host and its log
    assert result.status == "Failed"
    assert result.failure.startswith(
        "step 'Prep' (Processing) failed: algo-2 exited with code 1: algo-2 found a bad row"
    )
    assert result.properties["Prep"]["ProcessingJobStatus"] == "Failed"
    assert result.properties["Prep"]["ExitMessage"] == "algo-2 found a bad row"
    record = result.step("Prep")
    assert record.log_path == result.run_dir / "Prep" / "algo-2" / "job.log"
    assert f"      job log: {record.log_path}" in summary_lines(result, aws)
    # ... and algo-1 was stopped, not left running
    with pytest.raises(ProcessLookupError):
        os.kill(int((shared / "algo-1.pid").read_text()), 0)


def test_the_stopping_condition_stops_every_host(aws: LocalAws, tmp_path: Path) -> None:
    # GIVEN a two-instance job whose hosts would run for minutes, and a 3-second MaxRuntimeInSeconds
    shared = tmp_path / "shared"
    shared.mkdir()
    step = processing_step("job.py", ["hang"], 2, [], SHARED=str(shared))
    step["Arguments"]["StoppingCondition"]["MaxRuntimeInSeconds"] = 3
    # WHEN it runs
    result = run(aws, tmp_path / "runs", step)
    # THEN the job failed at its stopping condition, and no host is left running
    assert result.status == "Failed"
    assert result.failure.startswith(
        "step 'Prep' (Processing) failed: stopped after MaxRuntimeInSeconds=3 (StoppingCondition)"
    )
    for pid_file in shared.glob("*.pid"):
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid_file.read_text()), 0)


def test_a_training_job_runs_on_every_host_and_keeps_algo_1s_model(aws: LocalAws, tmp_path: Path) -> None:
    # GIVEN a two-instance training job with a sharded train channel and checkpoints in S3
    # WHEN it runs
    result = run(aws, tmp_path, training_step(2, checkpoints="ckpt"))
    # THEN the model is algo-1's model dir alone, and it saw its training resourceconfig and shard
    assert result.status == "Succeeded", result.failure
    with tarfile.open(fileobj=io.BytesIO(aws.read_object(result.step("Train").outputs["model"]))) as tar:
        assert tar.getnames() == ["algo-1.txt"]
        model = json.loads(tar.extractfile("algo-1.txt").read())  # type: ignore[union-attr]
    assert model == {
        "config": {"current_host": "algo-1", "hosts": ["algo-1", "algo-2"], "network_interface_name": "eth0"},
        "train": ["a.csv", "sub"],
    }
    second = json.loads((result.run_dir / "Train/algo-2/opt_ml/model/algo-2.txt").read_text())
    assert second["config"]["current_host"] == "algo-2"
    assert second["train"] == ["c.csv"]
    # ... every host resumed from the checkpoint in S3, and every host's checkpoints went back there
    for host in ("algo-1", "algo-2"):
        assert aws.read_object(f"s3://{BUCKET}/ckpt/{host}.ckpt") == b"start.ckpt"


def test_a_failing_training_host_gives_the_job_its_failure_reason(aws: LocalAws, tmp_path: Path) -> None:
    result = run(aws, tmp_path, training_step(2, "fail"))
    assert result.status == "Failed"
    assert result.properties["Train"]["TrainingJobStatus"] == "Failed"
    assert result.properties["Train"]["FailureReason"] == "AlgorithmError: algo-2 ran out of rows"
    assert result.failure.startswith(
        "step 'Train' (Training) failed: algo-2 exited with code 1: AlgorithmError: algo-2 ran out of rows\n"
    )


def test_a_one_instance_job_keeps_its_layout_and_gets_a_resource_config(
    aws: LocalAws, tmp_path: Path
) -> None:
    # GIVEN the same training job on one instance
    # WHEN it runs
    result = run(aws, tmp_path, training_step(1))
    # THEN it ran in <step dir>/opt_ml as before, algo-1 alone in its resourceconfig.json, with all the data
    assert result.status == "Succeeded", result.failure
    step_dir = result.run_dir / "Train"
    assert not (step_dir / "algo-1").exists()
    model = json.loads((step_dir / "opt_ml/model/algo-1.txt").read_text())
    assert model == {
        "config": {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"},
        "train": ["a.csv", "c.csv", "sub"],
    }
    record = result.step("Train")
    assert record.log_path == step_dir / "job.log"
    assert record.host_logs == {}
    assert not any("instances" in note for note in record.notes)


def test_a_one_instance_job_gets_no_cluster_variables(aws: LocalAws, tmp_path: Path) -> None:
    result = run(aws, tmp_path, processing_step("job.py", ["report", REPORT], 1, data_inputs()))
    assert result.status == "Succeeded", result.failure
    seen = seen_by(aws, "algo-1")
    assert seen["config"] == {"current_host": "algo-1", "hosts": ["algo-1"]}
    assert seen["root"] == str(result.run_dir / "Prep" / "opt_ml")
    assert (seen["addresses"], seen["port"]) == (None, None)
    assert seen["sharded"] == seen["replicated"] == ["a.csv", "c.csv", "sub/b.csv"]


def test_two_hosts_meet_over_loopback_with_xgboost_collective(aws: LocalAws, tmp_path: Path) -> None:
    # GIVEN two hosts that find the leader's tracker only through the env the runner set
    step = processing_step("collective.py", [REPORT], 2, [])
    # WHEN they allreduce their rank + 1
    result = run(aws, tmp_path, step)
    # THEN both joined one world of two and got 1 + 2
    assert result.status == "Succeeded", result.failure
    assert seen_by(aws, "algo-1") == {"total": 3.0, "world": 2, "rank": 0}
    assert seen_by(aws, "algo-2") == {"total": 3.0, "world": 2, "rank": 1}
