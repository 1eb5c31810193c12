"""Test data for train and evaluate: a fitted transformer and its splits as ``part-*.csv`` files, and
training hosts laid out as SageMaker lays out /opt/ml (channels, hyperparameters, resourceconfig.json).

Written here rather than through preprocess, so these tests pin the files' contract (header
``__target__`` + the transformer's output names, float values, header-only files allowed) and not
preprocess's code.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ml_code import contract
from ml_code.features import FeatureTransformer
from ml_code.sample_data import TARGET, generate

REPO = Path(__file__).resolve().parents[2]
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Splits:
    transformer: FeatureTransformer
    frames: dict[str, pd.DataFrame]


def make_splits(rows: int, seed: int) -> Splits:
    """Sample rows cut 60/20/20 into train, validation and test, transformed by a transformer fit on train."""
    raw = generate(rows, seed=seed)
    cuts = {"train": raw.iloc[: rows * 6 // 10], "validation": raw.iloc[rows * 6 // 10 : rows * 8 // 10]}
    cuts["test"] = raw.iloc[rows * 8 // 10 :]
    transformer = FeatureTransformer.fit(cuts["train"], TARGET, "binary")
    frames = {}
    for name, part in cuts.items():
        frame = pd.DataFrame(transformer.transform_frame(part), columns=transformer.output_names)
        frame.insert(0, contract.TARGET_COLUMN_IN_SPLITS, transformer.encode_target(part[TARGET]))
        frames[name] = frame
    return Splits(transformer, frames)


def write_parts(frame: pd.DataFrame, folder: Path, files: int, host: str = "algo-1") -> list[Path]:
    """``frame``'s rows dealt round-robin into ``files`` part files (header-only when a file gets none)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"part-{host}-{k:02d}.csv" for k in range(files)]
    for k, path in enumerate(paths):
        frame.iloc[k::files].to_csv(path, index=False)
    return paths


def write_transformer(transformer: FeatureTransformer, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / contract.TRANSFORMER_FILE
    path.write_text(transformer.to_json(), encoding="utf-8")
    return path


def lay_out_host(
    root: Path,
    channels: dict[str, list[Path]],
    hyperparameters: dict[str, str],
    *,
    host: str = "algo-1",
    hosts: tuple[str, ...] = ("algo-1",),
) -> Path:
    """A host's /opt/ml stand-in: each channel's files, hyperparameters.json, resourceconfig.json."""
    for name, files in channels.items():
        target = root / "input" / "data" / name
        target.mkdir(parents=True, exist_ok=True)
        for path in files:
            shutil.copy2(path, target / path.name)
    config = root / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    resources = {"current_host": host, "hosts": list(hosts), "network_interface_name": "eth0"}
    (config / "resourceconfig.json").write_text(json.dumps(resources))
    return root


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class HostRun:
    code: int
    log: str
    root: Path

    def failure(self) -> str | None:
        path = self.root / "output" / "failure"
        return path.read_text() if path.is_file() else None


def run_hosts(
    roots: dict[str, Path], argv: list[str] | None = None, timeout: int = 300, python: str = sys.executable
) -> dict[str, HostRun]:
    """``python -m ml_code.steps.train`` once per host, all at once, on loopback; each host's result."""
    port = free_port()
    addresses = json.dumps(dict.fromkeys(roots, "127.0.0.1"))
    processes = {}
    for host, root in roots.items():
        env = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
        env.update(
            {
                contract.OPT_ML_ROOT_ENV: str(root),
                contract.HOST_ADDRESSES_ENV: addresses,
                contract.COLLECTIVE_PORT_ENV: str(port),
                "PYTHONPATH": str(REPO),
                # N hosts on one machine: XGBoost's OpenMP threads spin while a collective call waits,
                # so two 2-thread hosts on 2 cores take ~30x longer per round than 1-thread ones.
                "OMP_NUM_THREADS": "1",
            }
        )
        processes[host] = subprocess.Popen(
            [python, "-m", "ml_code.steps.train", *(argv or [])],
            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    runs = {}
    for host, process in processes.items():
        try:
            log, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for other in processes.values():
                other.kill()
            raise
        runs[host] = HostRun(process.returncode, log, roots[host])
    return runs
