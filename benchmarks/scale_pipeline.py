"""The pipeline's data steps on P processing and P training hosts, as SageMaker would run them.

Each job's hosts are local processes (:mod:`benchmarks.scale_hosts`) running the steps' real
command lines (``python -m ml_code.steps.<step> ...``, the arguments the pipeline definition
passes, docs/design14). What S3 does between the jobs is done with files here:

- a ``ShardedByS3Key`` input: the objects under the prefix, sorted by key, dealt round-robin
  (object ``i`` to host ``i mod N``); ``FullyReplicated``: every host gets all of them;
- a processing output: every host's folder under one prefix (the keys are the files' paths
  inside the folder; the jobs write host-named files, so none collide);
- the model: ``algo-1``'s ``/opt/ml/model`` archived as ``model.tar.gz``.

Inputs are hard links (no copy of the data), so disk use stays near the data and the outputs.
With P = 1, Preprocess profiles its own input; with P > 1, a Profile job runs first.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from benchmarks.scale_hosts import ROOT, Host, HostRun, job_hosts, run_job
from ml_code import contract
from stacks.pipeline.props import TRAINING_HYPERPARAMETERS

HYPERPARAMETERS_FILE: Final = "/opt/ml/input/config/hyperparameters.json"
NETWORK_INTERFACE: Final = "eth0"
PROBLEM_TYPE: Final = contract.SAMPLE_PROBLEM_TYPE


@dataclass(frozen=True)
class Settings:
    """The pipeline's ``scale`` settings the steps are given."""

    chunk_rows: int
    sample_rows: int
    #: The folder holding the ``ml_code`` the steps run (the working tree, or a revision's snapshot).
    code: Path = ROOT
    #: The interpreter the steps run under (``make bench-scale``: ``.venv-contract``'s, the image's
    #: Python and library pins, which has no pyarrow; ``.venv``'s pandas loads pyarrow, ~34 MB).
    python: str = sys.executable
    #: Arguments train.py gets besides the definition's (e.g. ``--external-memory``).
    train_extra: tuple[str, ...] = ()

    def data_arguments(self) -> list[str]:
        """What Profile and Preprocess both get (stacks/pipeline/raw_data.py)."""
        return [
            "--target-column", contract.SAMPLE_TARGET_COLUMN, "--problem-type", PROBLEM_TYPE,
            "--chunk-rows", str(self.chunk_rows), "--sample-rows", str(self.sample_rows),
        ]  # fmt: skip


def _job(settings: Settings, step: str, hosts: Sequence[Host], arguments: Sequence[str]) -> list[HostRun]:
    """``python -m ml_code.steps.<step>`` on ``hosts``, with the settings' code and interpreter."""
    failure = contract.FAILURE_FILE if step == "train" else contract.PROCESSING_MESSAGE_FILE
    return run_job(
        step, hosts, f"ml_code.steps.{step}", arguments,
        failure_file=failure, code=settings.code, python=settings.python,
    )  # fmt: skip


def _link(files: Sequence[Path], folder: Path, root: Path | None = None) -> None:
    """Put ``files`` into ``folder`` (as their paths under ``root``, else their names)."""
    for source in files:
        target = folder / (source.relative_to(root) if root else Path(source.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:  # another file system
            shutil.copy2(source, target)


def _objects(hosts: Sequence[Host], container_path: str) -> list[tuple[Path, Path]]:
    """The S3 prefix every host's ``container_path`` is uploaded to: (key, file), sorted by key."""
    objects: dict[Path, Path] = {}
    for host in hosts:  # a later host's file of the same key replaces an earlier one's, as in S3
        folder = host.local(container_path)
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            objects[path.relative_to(folder)] = path
    return sorted(objects.items())


def _download(
    hosts: Sequence[Host], objects: Sequence[tuple[Path, Path]], container_path: str, *, sharded: bool
) -> None:
    """Each host's input at ``container_path``: its round-robin share of ``objects``, or all of them."""
    for i, host in enumerate(hosts):
        mine = objects[i :: len(hosts)] if sharded else objects
        folder = host.local(container_path)
        folder.mkdir(parents=True, exist_ok=True)
        for key, path in mine:
            _link([path], folder / key.parent)


def _processing(
    work: Path, data: Sequence[Path], count: int, settings: Settings, runs: list[HostRun]
) -> list[Host]:
    """Profile (more than one host) and Preprocess on ``count`` hosts; the Preprocess hosts."""
    raw = [(Path(p.name), p) for p in sorted(data)]
    preprocess = job_hosts(work / "preprocess", count)
    _download(preprocess, raw, contract.RAW_DATA_DIR, sharded=count > 1)
    if count > 1:
        profile = job_hosts(work / "profile", count)
        _download(profile, raw, contract.RAW_DATA_DIR, sharded=True)
        for host in profile:
            host.write_resource_config(contract.PROCESSING_RESOURCE_CONFIG)
        runs += _job(settings, "profile", profile, settings.data_arguments())
        profiles = _objects(profile, contract.PROFILE_DIR)
        _download(preprocess, profiles, contract.PROFILES_INPUT_DIR, sharded=False)
    for host in preprocess:
        host.write_resource_config(contract.PROCESSING_RESOURCE_CONFIG)
    arguments = [*settings.data_arguments(), "--shards", str(count)]
    runs += _job(settings, "preprocess", preprocess, arguments)
    return preprocess


def _train(
    work: Path, preprocess: Sequence[Host], count: int, settings: Settings, runs: list[HostRun]
) -> Host:
    """Train on ``count`` hosts over Preprocess's outputs; the leader."""
    hosts = job_hosts(work / "train", count)
    for channel in (contract.TRAIN_CHANNEL, contract.VALIDATION_CHANNEL):
        objects = _objects(preprocess, contract.PREPROCESS_OUTPUTS[channel])
        _download(hosts, objects, f"{contract.TRAINING_CHANNEL_ROOT}/{channel}", sharded=count > 1)
    transformer = _objects(preprocess, contract.PREPROCESS_OUTPUTS[contract.TRANSFORMER_CHANNEL])
    _download(
        hosts, transformer, f"{contract.TRAINING_CHANNEL_ROOT}/{contract.TRANSFORMER_CHANNEL}", sharded=False
    )
    for host in hosts:
        host.local(contract.TRAINING_MODEL_DIR).mkdir(parents=True, exist_ok=True)
        host.local(HYPERPARAMETERS_FILE).parent.mkdir(parents=True, exist_ok=True)
        host.local(HYPERPARAMETERS_FILE).write_text(json.dumps(TRAINING_HYPERPARAMETERS))
        host.write_resource_config(
            contract.TRAINING_RESOURCE_CONFIG, network_interface_name=NETWORK_INTERFACE
        )
    arguments = ["--chunk-rows", str(settings.chunk_rows), *settings.train_extra]
    runs += _job(settings, "train", hosts, arguments)
    return hosts[0]


def _evaluate(
    work: Path, preprocess: Sequence[Host], leader: Host, settings: Settings, runs: list[HostRun]
) -> float:
    """Evaluate (one host) the leader's model on the test split; the test AUC."""
    (host,) = job_hosts(work / "evaluate", 1)
    model_input = host.local(contract.MODEL_INPUT_DIR)
    model_input.mkdir(parents=True, exist_ok=True)
    model_dir = leader.local(contract.TRAINING_MODEL_DIR)
    with tarfile.open(model_input / "model.tar.gz", "w:gz") as tar:
        for path in sorted(model_dir.rglob("*")):
            tar.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False)
    _download(
        [host],
        _objects(preprocess, contract.PREPROCESS_OUTPUTS["test"]),
        contract.TEST_INPUT_DIR,
        sharded=False,
    )
    host.write_resource_config(contract.PROCESSING_RESOURCE_CONFIG)
    arguments = ["--problem-type", PROBLEM_TYPE, "--chunk-rows", str(settings.chunk_rows)]
    runs += _job(settings, "evaluate", [host], arguments)
    report = json.loads((host.local(contract.EVALUATION_DIR) / contract.EVALUATION_FILE).read_text())
    return float(report[contract.GATE_SECTION]["value"])


def run_pipeline(
    work: Path, data: Sequence[Path], instances: int, settings: Settings, runs: list[HostRun]
) -> tuple[float, dict[str, int]]:
    """Profile (P > 1), Preprocess and Train on ``instances`` hosts each, then Evaluate, in ``work``;
    returns the test AUC and the model's rounds (``num_boosted_rounds``, ``best_iteration`` from
    algo-1's model-meta.json: early stopping decides how long Train runs). Each host's cost is
    added to ``runs`` as it finishes (a failed run keeps the costs of the steps before the failure).

    Raises:
        benchmarks.scale_hosts.HostFailedError: a step failed on a host.
    """
    preprocess = _processing(work, data, instances, settings, runs)
    leader = _train(work, preprocess, instances, settings, runs)
    meta = json.loads((leader.local(contract.TRAINING_MODEL_DIR) / contract.MODEL_META_FILE).read_text())
    rounds = {key: int(meta[key]) for key in ("num_boosted_rounds", "best_iteration") if key in meta}
    return _evaluate(work, preprocess, leader, settings, runs), rounds
