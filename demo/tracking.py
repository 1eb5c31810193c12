"""`make demo` with ``tracking.enabled``: a local MLflow server the pipeline's Track steps log to.

The server (:mod:`emulator.tracking_server`, store ``<work>/mlflow``: ``.demo/mlflow``) starts
before the synth and is waited for after it, so its cold start overlaps CDK's; every training run
of the demo (the first two, the drift-triggered retraining, a use case's) is then an MLflow run in
the experiment named after its pipeline. The server stops when the demo ends; ``make mlflow``
serves the same store afterwards.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from emulator.provision import OfflinePipeline
from emulator.tracking_server import LocalTrackingServer

STORE_FOLDER = "mlflow"


@contextmanager
def local_tracking(enabled: bool, work: Path) -> Iterator[LocalTrackingServer | None]:
    """The started (not yet answering) server on ``work/mlflow`` when ``enabled``, else None;
    stopped when the block ends."""
    if not enabled:
        yield None
        return
    with LocalTrackingServer(work / STORE_FOLDER).start() as server:
        yield server


def tracked(
    pipeline: OfflinePipeline, server: LocalTrackingServer | None, given_url: str | None = None
) -> OfflinePipeline:
    """``pipeline`` logging to ``given_url`` (a server someone else runs) or to ``server`` (waited
    for); the URL printed. As is with neither.

    Raises:
        RuntimeError: the server did not come up (the message carries its log).
    """
    if given_url is not None:
        print(f"MLflow tracking server: {given_url} (given; this demo starts none)")
        return dataclasses.replace(pipeline, mlflow_url=given_url)
    if server is None:
        return pipeline
    url = server.wait()
    print(f"MLflow tracking server (local stand-in): {url} (store {server.store}; log {server.log_path})")
    print("  every training run below is an MLflow run there; after the demo: make mlflow")
    return dataclasses.replace(pipeline, mlflow_url=url)
