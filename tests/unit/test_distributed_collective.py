"""The collective's edges, in one process: one host needs none, a host waits for the leader's name and
tracker within bounds, XGBoost's error chain becomes a readable reason."""

from __future__ import annotations

import pytest
import xgboost as xgb
from split_parts import free_port

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
