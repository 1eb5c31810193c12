"""XGBoost's collective across a training job's hosts: the leader's tracker and every host's membership.

The SageMaker XGBoost container's own way (``sagemaker_xgboost_container/distributed.py`` at
v3.0-5), written for our entrypoint: the leader (``algo-1``) starts ``xgboost.tracker.RabitTracker``
on its own address and the collective port, with ranks sorted by task; every host waits until the
tracker's port answers (hosts boot a few seconds apart), then joins with its place in the host list
as its task id, so its rank is :attr:`Cluster.rank`. Inside :func:`collective`, ``QuantileDMatrix``
sketches and ``xgb.train`` histograms, gradients' statistics and evaluation metrics are reduced
across the hosts by XGBoost itself: every host sees the same metrics, so early stopping stops them
at the same round. A one-host job runs without any of it.

Every collective call waits at most :data:`COLLECTIVE_TIMEOUT_S` for the other hosts (XGBoost's
``dmlc_timeout``: each poll of its sockets, and a joining host's wait for the tracker to start the
group). A host that fails closes its sockets and the others fail at once; one that vanishes (an
instance lost, a network cut) sends nothing, so without the bound they would wait XGBoost's default
of 30 minutes per call. After the call that timed out, telling the tracker and leaving the group wait
at most as long each, so a host fails within about 2 (3 when the leader, with the tracker, vanished)
times the bound, with a CollectiveError that names the collective.

Unlike the container, a host with an empty shard stays in (xgboost 3.0.5 trains with an empty local
matrix; see :mod:`ml_code.steps.split_iter`), so there is one collective, not a second one without it.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import numpy as np

from ml_code.cluster import Cluster
from ml_code.errors import DataValidationError
from ml_code.xgboost_lib import RabitTracker, xgb, xgb_collective

LOG = logging.getLogger(__name__)
#: How long a host waits for the leader's tracker, and the tracker for every host to join (the
#: container waits up to 15 minutes for the cluster's names to resolve).
JOIN_TIMEOUT_S: Final = 900
#: How long a collective call waits for the other hosts before the host fails (XGBoost's
#: ``dmlc_timeout``; its default is 30 minutes, ``DefaultTimeoutSec`` in xgboost 3.0.5's comm.h). The
#: same wait bounds a joining host's wait for the tracker to start the group once every host joined,
#: so it is the join's 15 minutes; and it is well above the longest gap between two collective calls
#: in a healthy job: a boosting round (histograms of one host's shard: seconds; a minute with
#: external memory) or how much later one host finishes a pass over its shard than another while
#: the QuantileDMatrix is sketched (the shards are balanced by the row hash, so minutes at most).
COLLECTIVE_TIMEOUT_S: Final = JOIN_TIMEOUT_S
#: Seconds between two knocks on the tracker's port.
KNOCK_INTERVAL_S: Final = 1.0


class CollectiveError(RuntimeError):
    """The hosts could not form the collective, or it broke (usually: another host failed)."""


def wait_for_tracker(address: str, port: int, timeout_s: float = JOIN_TIMEOUT_S) -> None:
    """Return once ``address:port`` accepts a connection; raises CollectiveError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection((address, port), timeout=KNOCK_INTERVAL_S * 5).close()
            return
        except OSError as exc:
            if time.monotonic() >= deadline:
                raise CollectiveError(
                    f"the leader's tracker at {address}:{port} did not answer within {timeout_s:.0f} s: {exc}"
                ) from exc
            time.sleep(KNOCK_INTERVAL_S)


def leader_address(cluster: Cluster, timeout_s: float = JOIN_TIMEOUT_S) -> str:
    """The leader's address, asked again until ``timeout_s``: as a SageMaker cluster boots, its hosts'
    names may not resolve yet (the XGBoost container retries for 15 minutes too).

    Raises:
        DataValidationError: the name still does not resolve after ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return cluster.address(cluster.leader)
        except DataValidationError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(KNOCK_INTERVAL_S)


def _summary(exc: xgb.core.XGBoostError) -> str:
    """XGBoost's error chain (``- [file.cc:line|time]: text`` lines) as its texts, without the stack."""
    lines = str(exc).splitlines()
    texts = [line.split("]: ", 1)[1] for line in lines if line.startswith("- [") and "]: " in line]
    return "; ".join(texts[:4]) or (lines[0] if lines else type(exc).__name__)


def _start_tracker(cluster: Cluster, address: str, port: int) -> tuple[RabitTracker, threading.Thread]:
    tracker = RabitTracker(
        n_workers=cluster.size, host_ip=address, port=port, sortby="task", timeout=JOIN_TIMEOUT_S
    )
    tracker.start()
    waiter = threading.Thread(target=tracker.wait_for, name="rabit-tracker", daemon=True)
    waiter.start()
    LOG.info("tracker for %d hosts listening on %s:%d", cluster.size, address, port)
    return tracker, waiter


@contextmanager
def collective(cluster: Cluster, timeout_s: int = COLLECTIVE_TIMEOUT_S) -> Iterator[None]:
    """Run the body as a member of the job's collective (nothing to do for one host); a collective
    call waits at most ``timeout_s`` for the other hosts.

    Raises:
        CollectiveError: the tracker did not answer, the hosts could not join, or the collective broke
            while the body ran, or another host stopped answering for ``timeout_s`` (the message carries
            XGBoost's reason; the failing host's own failure reason says why it left).
    """
    if cluster.size == 1:
        yield
        return
    address, port = leader_address(cluster), Cluster.collective_port()
    tracker = None
    try:
        tracker = _start_tracker(cluster, address, port) if cluster.is_leader else None
        wait_for_tracker(address, port)
        with xgb_collective.CommunicatorContext(
            dmlc_tracker_uri=address,
            dmlc_tracker_port=port,
            dmlc_task_id=str(cluster.rank),
            dmlc_timeout=timeout_s,
        ):
            if xgb_collective.get_rank() != cluster.rank:  # the leader must be rank 0: it saves the model
                raise CollectiveError(f"{cluster.current_host} got rank {xgb_collective.get_rank()}")
            LOG.info(
                "%s joined the collective as rank %d of %d", cluster.current_host, cluster.rank, cluster.size
            )
            yield
    except xgb.core.XGBoostError as exc:
        first = exc.__context__  # leaving the group failed too: what failed before it comes first
        if first is not None and not isinstance(first, xgb.core.XGBoostError):
            raise first from None  # the body's own failure (bad data...), not the group's
        reason = _summary(first) + "; then leaving it: " + _summary(exc) if first else _summary(exc)
        raise CollectiveError(
            f"the collective of {cluster.size} hosts failed on {cluster.current_host}: {reason} "
            "(when another host failed first, its failure reason says why)"
        ) from exc
    finally:
        if tracker is not None:
            tracker[1].join(timeout=5)
            if not tracker[1].is_alive():
                tracker[0].free()


def global_sums(values: list[int]) -> list[int]:
    """``values`` summed over every host of the collective (themselves outside one)."""
    if not xgb_collective.is_distributed():
        return list(values)
    return [
        int(v) for v in xgb_collective.allreduce(np.asarray(values, dtype=np.int64), xgb_collective.Op.SUM)
    ]


def global_range(value: int) -> tuple[int, int]:
    """The smallest and largest ``value`` over every host of the collective."""
    if not xgb_collective.is_distributed():
        return value, value
    data = np.asarray([value], dtype=np.int64)
    low = xgb_collective.allreduce(data, xgb_collective.Op.MIN)
    high = xgb_collective.allreduce(data, xgb_collective.Op.MAX)
    return int(low[0]), int(high[0])
