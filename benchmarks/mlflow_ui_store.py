"""The MLflow store the UI check looks at: served by ``mlflow server`` and read with MlflowClient.

A store is what ``make demo`` leaves in ``.demo/mlflow``: the sqlite file ``mlflow.db`` and the
served artifacts' folder ``artifacts/``. The check serves a *snapshot* of the sqlite file (sqlite's
backup API: consistent even while the demo's own server writes) with the artifacts folder as it is,
because it writes its shared view (an experiment tag) into what it serves: the store itself is
never changed.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from benchmarks.mlflow_ui_page import SHARE_KEY, SHARED_VIEW_TAG_PREFIX, RunTruth
from emulator.tracking_server import LocalTrackingServer

#: A store's two parts (emulator.tracking_server serves them).
DATABASE: Final = "mlflow.db"
ARTIFACTS: Final = "artifacts"
#: The most runs read per experiment (the UI's table loads 100 a page; the demo makes a few).
MAX_RUNS: Final = 100


class StoreError(RuntimeError):
    """No store where one was expected, or its server did not start."""


@dataclass(frozen=True)
class ExperimentTruth:
    experiment_id: str
    name: str
    runs: tuple[RunTruth, ...]


def quiet_client_logs() -> None:
    """The SageMaker MLflow plugin's header provider logs a warning on every request to a plain
    http:// server (it looks for a tracking server ARN in the URL; these servers have none), and
    the client prints a "View run at" line for every run it ends."""
    logging.getLogger("mlflow.tracking.request_header.registry").setLevel(logging.ERROR)
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")


def client(url: str):  # type: ignore[no-untyped-def]  # mlflow's client is untyped
    """``mlflow.tracking.MlflowClient`` on the server at ``url``."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415  (seconds of import, only when used)

    quiet_client_logs()
    return MlflowClient(tracking_uri=url)


@contextmanager
def served_snapshot(store: Path) -> Iterator[str]:
    """A snapshot of ``store`` served (see the module's docstring); yields its URL. Raises
    StoreError when ``store`` has no ``mlflow.db``."""
    database = store / DATABASE
    if not database.is_file():
        raise StoreError(
            f"no MLflow store at {store}: {database} is missing (make demo makes one; "
            "--populate makes a development one)"
        )
    with tempfile.TemporaryDirectory(prefix="mlflow-ui-snapshot-") as folder:
        snapshot = Path(folder) / DATABASE
        with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(snapshot)) as target:
            source.backup(target)
        (Path(folder) / ARTIFACTS).symlink_to((store / ARTIFACTS).resolve(), target_is_directory=True)
        with LocalTrackingServer(Path(folder)) as local:  # as make demo serves a store
            yield local.wait()


def read_truth(url: str) -> list[ExperimentTruth]:
    """Every experiment with at least one run, and its runs (active ones, newest first), as
    MlflowClient reads them."""
    tracking = client(url)
    found = []
    for experiment in tracking.search_experiments():
        runs = tracking.search_runs([experiment.experiment_id], max_results=MAX_RUNS)
        truths = tuple(
            RunTruth(run.info.run_id, run.info.run_name, dict(run.data.metrics), dict(run.data.tags))
            for run in runs
        )
        if truths:
            found.append(ExperimentTruth(str(experiment.experiment_id), experiment.name, truths))
    return found


def share_view(url: str, experiment_id: str, state: str) -> None:
    """Store the shared view ``state`` (JSON) under SHARE_KEY on the served experiment."""
    client(url).set_experiment_tag(experiment_id, SHARED_VIEW_TAG_PREFIX + SHARE_KEY, state)
