"""The collective's edges: one host needs none, a host waits for the leader's name and tracker within
bounds, XGBoost's error chain becomes a readable reason, and a host whose peer fails or vanishes
mid-training fails with a CollectiveError instead of waiting on."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import xgboost as xgb
from split_parts import free_port

from ml_code import contract
from ml_code.cluster import Cluster
from ml_code.errors import DataValidationError
from ml_code.steps import collective as coll
from ml_code.steps.collective import CollectiveError, collective, global_range, global_sums, leader_address

TWO = Cluster("algo-2", ("algo-1", "algo-2"))


def test_one_host_trains_without_a_collective() -> None:
    with collective(Cluster("algo-1", ("algo-1",))):
        assert not xgb.collective.is_distributed()
        assert global_sums([3, 4]) == [3, 4]
        assert global_range(7) == (7, 7)


def test_the_leaders_name_is_asked_again_until_it_resolves(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a cluster whose leader's name resolves only at the third try (a booting SageMaker cluster)
    answers: list[str | Exception] = [DataValidationError("no"), DataValidationError("not yet"), "10.0.0.1"]

    def address(self: Cluster, host: str) -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(Cluster, "address", address)
    monkeypatch.setattr(coll, "KNOCK_INTERVAL_S", 0.01)
    # WHEN the host looks the leader up THEN it gets the address
    assert leader_address(TWO, timeout_s=5) == "10.0.0.1"


def test_a_name_that_never_resolves_fails_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def address(self: Cluster, host: str) -> str:
        raise DataValidationError(f"host {host!r} does not resolve: nope")

    monkeypatch.setattr(Cluster, "address", address)
    monkeypatch.setattr(coll, "KNOCK_INTERVAL_S", 0.01)
    with pytest.raises(DataValidationError, match="host 'algo-1' does not resolve: nope"):
        leader_address(TWO, timeout_s=0.05)


def test_a_tracker_that_never_answers_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coll, "KNOCK_INTERVAL_S", 0.01)
    port = free_port()  # nothing listens there
    with pytest.raises(
        CollectiveError, match=rf"the leader's tracker at 127\.0\.0\.1:{port} did not answer within 0 s"
    ):
        coll.wait_for_tracker("127.0.0.1", port, timeout_s=0.05)


def test_xgboosts_error_chain_becomes_its_texts() -> None:
    error = xgb.core.XGBoostError(
        "[04:27:04] /workspace/src/collective/result.cc:78: \n"
        "- [allreduce.cc:39|04:27:04]: Ring allreduce small failed.\n"
        "- [socket.h:79|04:27:04]: Poll error condition:Success code:0\n"
        "Stack trace:\n  [bt] (0) libxgboost.so(+0x1)"
    )
    assert coll._summary(error) == "Ring allreduce small failed.; Poll error condition:Success code:0"


# A host of a 2-host job that sums a number with the other every 0.1 s until the collective breaks;
# exit code 3 and the message when it fails with a CollectiveError.
HOST = """
import sys, time
from ml_code.cluster import Cluster
from ml_code.steps.collective import CollectiveError, collective, global_sums
try:
    with collective(Cluster(sys.argv[1], ("algo-1", "algo-2")), timeout_s=int(sys.argv[2])):
        for i in range(10**6):
            global_sums([i])
            print("round", i, flush=True)
            time.sleep(0.1)
except CollectiveError as exc:
    print("CollectiveError:", exc, flush=True)
    sys.exit(3)
"""
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("how", "victim", "reason", "timeout_s"),
    [
        # a process that dies: its sockets close; XGBoost's words depend on which of the survivor's
        # calls sees it first (a read: EOF; a write: broken pipe or reset; a poll: an error condition)
        (signal.SIGKILL, "algo-2", "Encountered EOF|Broken pipe|Connection reset|Poll error condition", 5),
        # a host that vanishes sends nothing: the survivor waits out the timeout (3 s keeps the test
        # short and still far above a round's time on a busy machine)
        (signal.SIGSTOP, "algo-2", "Poll timeout:3 seconds", 3),
        (signal.SIGSTOP, "algo-1", "Poll timeout:3 seconds", 3),  # ... the leader, with the tracker
    ],
    ids=["killed", "vanished", "leader-vanished"],
)
def test_a_host_whose_peer_dies_or_vanishes_mid_training_fails_with_a_collective_error(
    how: signal.Signals, victim: str, reason: str, timeout_s: int
) -> None:
    # GIVEN two hosts in a collective whose calls wait at most timeout_s, summing round after round
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1",
           contract.HOST_ADDRESSES_ENV: json.dumps({"algo-1": "127.0.0.1", "algo-2": "127.0.0.1"}),
           contract.COLLECTIVE_PORT_ENV: str(free_port())}  # fmt: skip
    command = [sys.executable, "-c", HOST]
    hosts = {
        host: subprocess.Popen(
            [*command, host, str(timeout_s)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for host in ("algo-1", "algo-2")
    }
    survivor = hosts["algo-2" if victim == "algo-1" else "algo-1"]
    try:
        assert survivor.stdout is not None
        while not survivor.stdout.readline().startswith("round 3"):  # training is under way
            assert survivor.poll() is None
        # WHEN the other host is killed, or frozen (as an instance that is gone: no close, no answer)
        os.kill(hosts[victim].pid, how)
        # THEN the survivor ends (the subprocess timeout only stops a hang) with a CollectiveError
        # that names the collective and XGBoost's reason
        log, _ = survivor.communicate(timeout=120)
    finally:
        for process in hosts.values():
            process.kill()
            process.wait()
    assert survivor.returncode == 3, log
    assert "CollectiveError: the collective of 2 hosts failed on" in log
    assert re.search(reason, log), log


class LeavingFails:
    """XGBoost's communicator context whose leaving fails (the tracker is gone), as finalize() does."""

    def __init__(self, **args: object) -> None:
        pass

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        raise xgb.core.XGBoostError("- [comm.cc:409|05:33:07]: Failed to shutdown.")


@pytest.fixture
def leaving_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coll, "leader_address", lambda cluster: "127.0.0.1")
    monkeypatch.setattr(coll, "wait_for_tracker", lambda address, port: None)
    monkeypatch.setattr(xgb.collective, "CommunicatorContext", LeavingFails)
    monkeypatch.setattr(xgb.collective, "get_rank", lambda: 1)


@pytest.mark.usefixtures("leaving_fails")
def test_a_failure_while_leaving_does_not_hide_why_the_host_failed() -> None:
    # bad data on this host: its own reason, not the collective's
    with pytest.raises(DataValidationError, match="bad row"), collective(TWO):
        raise DataValidationError("bad row")
    # the collective broke: XGBoost's reason first, then the failure to leave
    reason = "Poll timeout:5 seconds; then leaving it: Failed to shutdown"
    with pytest.raises(CollectiveError, match=reason), collective(TWO):
        raise xgb.core.XGBoostError("- [loop.cc:72|05:33:01]: Poll timeout:5 seconds")
