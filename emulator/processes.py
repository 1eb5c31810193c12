"""Run a job's commands at once, one local process per host, and stop them together.

SageMaker ends a job when one of its instances fails (the others are stopped) or when it runs
past ``MaxRuntimeInSeconds``; :func:`run_all` does the same with local processes. Each one starts
in a process group of its own, so stopping it also stops what it started (``sh -c`` then python),
and nothing outlives the runner: an interrupted wait (Ctrl-C) stops them too.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: How long a stopped process gets to exit after SIGTERM before SIGKILL.
_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class Launch:
    """One command to start: its words, environment, working dir and log file (stdout + stderr)."""

    command: list[str]
    env: dict[str, str]
    cwd: Path
    log_path: Path


@dataclass(frozen=True)
class Outcome:
    """How a group of processes ended.

    ``failed``: the index of the first one seen exiting non-zero (None when all exited 0 or the
    deadline passed first), with its ``returncode``; ``timed_out``: the deadline stopped them;
    ``seconds``: each one's wall time, from the common start to its exit or its stop.
    """

    failed: int | None
    returncode: int
    timed_out: bool
    seconds: list[float]


def run_all(launches: Sequence[Launch], timeout: float | None) -> Outcome:
    """Start every launch, wait for all; the first non-zero exit or the deadline stops the rest.

    Raises:
        OSError: a command could not start (those already started are stopped).
    """
    started = time.monotonic()
    deadline = None if timeout is None else started + timeout
    processes: list[subprocess.Popen[bytes]] = []
    seconds = [0.0] * len(launches)
    exits: queue.Queue[tuple[int, int]] = queue.Queue()
    try:
        for index, launch in enumerate(launches):
            processes.append(_start(launch))
            threading.Thread(target=_wait, args=(processes[-1], index, exits), daemon=True).start()
        for _ in launches:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            try:
                index, code = exits.get(timeout=left)
            except queue.Empty:
                return Outcome(None, 0, True, _stopped(seconds, started))
            seconds[index] = time.monotonic() - started
            if code != 0:
                return Outcome(index, code, False, _stopped(seconds, started))
        return Outcome(None, 0, False, seconds)
    finally:
        for process in processes:
            stop_group(process)


def _start(launch: Launch) -> subprocess.Popen[bytes]:
    launch.cwd.mkdir(parents=True, exist_ok=True)
    launch.log_path.parent.mkdir(parents=True, exist_ok=True)
    with launch.log_path.open("ab") as log:
        return subprocess.Popen(
            launch.command,
            env=launch.env,
            cwd=launch.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait(process: subprocess.Popen[bytes], index: int, exits: queue.Queue[tuple[int, int]]) -> None:
    exits.put((index, process.wait()))


def _stopped(seconds: list[float], started: float) -> list[float]:
    """``seconds``, with the ones still running (0) counted up to now, when they are stopped."""
    now = time.monotonic() - started
    return [s or now for s in seconds]


def stop_group(process: subprocess.Popen[bytes], grace_s: float = _GRACE_SECONDS) -> None:
    """Stop ``process`` and its group (SIGTERM, then SIGKILL after ``grace_s``) unless it ended."""
    if process.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, grace_s), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
