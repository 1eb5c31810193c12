"""A real local MLflow tracking server for tests: the one ``make demo`` starts.

:func:`mlflow_server` runs :class:`emulator.tracking_server.LocalTrackingServer` (``.venv``'s
``mlflow server``, sqlite store and served artifacts under one folder, loopback, a free port) and
yields it once ``/health`` answers. A cold start costs seconds on a quiet machine and far more on a
busy one, so modules that only need *a* server share one per test process: the session fixture
``mlflow_shared`` in ``tests/conftest.py`` (runs there are told apart by their execution ARNs, and
each test reads back its own). Read runs back with :meth:`MlflowServer.client` (the real client)::

    def test_something(mlflow_shared: MlflowServer) -> None:
        runs = mlflow_shared.client().search_runs(...)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow.tracking import MlflowClient

from emulator.tracking_server import LocalTrackingServer, free_port

__all__ = ["MlflowServer", "free_port", "mlflow_server"]


@dataclass(frozen=True)
class MlflowServer:
    """A running server: its base URL and where it keeps its store."""

    url: str
    #: the sqlite file and the artifacts folder
    database: Path
    artifacts: Path
    log: Path

    def client(self) -> Any:
        """``mlflow.tracking.MlflowClient`` on this server."""
        return MlflowClient(tracking_uri=self.url)


@contextmanager
def mlflow_server(root: Path) -> Iterator[MlflowServer]:
    """Start ``mlflow server`` with its store under ``root``; yield it healthy; stop it after."""
    with LocalTrackingServer(root) as local:
        local.wait()
        yield MlflowServer(local.url, root / "mlflow.db", root / "artifacts", local.log_path)
