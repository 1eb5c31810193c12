"""MLflow's experiment and run calls, and the batching of what a run logs.

One run per pipeline execution: :func:`open_run` finds the run tagged with the execution's ARN
(a re-run of the step reuses it) or creates it. Metrics carry the run's start time as their
timestamp, so logging the same values again (a retried step) adds no second point.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ml_code.tracking.client import MlflowRest, TrackingError

#: MLflow's log-batch limits (``mlflow/utils/validation.py``): per call, and in all.
MAX_METRICS: Final = 1000
MAX_PARAMS: Final = 100
MAX_TAGS: Final = 100
MAX_ENTITIES: Final = 1000
#: The tag a run is found by (one run per pipeline execution).
EXECUTION_TAG: Final = "sagemaker.pipeline_execution_arn"


@dataclass(frozen=True)
class Metric:
    key: str
    value: float
    step: int = 0


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    experiment_id: str
    artifact_uri: str
    start_time: int

    @classmethod
    def of(cls, run: Mapping[str, Any]) -> RunInfo:
        info = run["info"]
        return cls(
            str(info["run_id"]), str(info["experiment_id"]), str(info["artifact_uri"]),
            int(info["start_time"]),
        )  # fmt: skip


def experiment_id(rest: MlflowRest, name: str) -> str:
    """The id of experiment ``name``, created when missing."""
    try:
        found = rest.call("GET", "experiments/get-by-name", query={"experiment_name": name})
        return str(found["experiment"]["experiment_id"])
    except TrackingError as exc:
        if "RESOURCE_DOES_NOT_EXIST" not in str(exc):
            raise
    try:
        return str(rest.call("POST", "experiments/create", {"name": name})["experiment_id"])
    except TrackingError as exc:  # another step made it meanwhile
        if "RESOURCE_ALREADY_EXISTS" not in str(exc):
            raise
    return str(rest.call("GET", "experiments/get-by-name", query={"experiment_name": name})["experiment"]
               ["experiment_id"])  # fmt: skip


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def execution_run(rest: MlflowRest, experiment: str, execution_arn: str) -> RunInfo | None:
    """The run tagged with ``execution_arn`` in ``experiment``, if there is one."""
    found = rest.call("POST", "runs/search", {
        "experiment_ids": [experiment], "max_results": 1,
        "filter": f"tags.`{EXECUTION_TAG}` = {_quoted(execution_arn)}",
    })  # fmt: skip
    return RunInfo.of(found["runs"][0]) if found.get("runs") else None


def open_run(rest: MlflowRest, experiment: str, run_name: str, execution_arn: str, start_ms: int) -> RunInfo:
    """The run of ``execution_arn`` in ``experiment``: the existing one, else a new run ``run_name``."""
    existing = execution_run(rest, experiment, execution_arn)
    if existing is not None:
        return existing
    created = rest.call("POST", "runs/create", {
        "experiment_id": experiment, "run_name": run_name, "start_time": start_ms,
        "tags": [{"key": EXECUTION_TAG, "value": execution_arn}],
    })  # fmt: skip
    return RunInfo.of(created["run"])


def batches(
    metrics: Sequence[Metric], params: Mapping[str, str], tags: Mapping[str, str]
) -> Iterator[tuple[list[Metric], list[tuple[str, str]], list[tuple[str, str]]]]:
    """Split into log-batch calls within MLflow's limits (params and tags first, metrics to fill)."""
    param_items, tag_items, left = list(params.items()), list(tags.items()), list(metrics)
    while param_items or tag_items or left:
        some_params, param_items = param_items[:MAX_PARAMS], param_items[MAX_PARAMS:]
        some_tags, tag_items = tag_items[:MAX_TAGS], tag_items[MAX_TAGS:]
        room = min(MAX_METRICS, MAX_ENTITIES - len(some_params) - len(some_tags))
        some_metrics, left = left[:room], left[room:]
        yield some_metrics, some_params, some_tags


def log_batch(
    rest: MlflowRest, run: RunInfo, metrics: Sequence[Metric], params: Mapping[str, str],
    tags: Mapping[str, str],
) -> int:  # fmt: skip
    """Log everything in as few calls as the limits allow; the number of calls."""
    calls = 0
    for some_metrics, some_params, some_tags in batches(metrics, params, tags):
        rest.call("POST", "runs/log-batch", {
            "run_id": run.run_id,
            "metrics": [{"key": m.key, "value": m.value, "step": m.step, "timestamp": run.start_time}
                        for m in some_metrics],
            "params": [{"key": k, "value": v} for k, v in some_params],
            "tags": [{"key": k, "value": v} for k, v in some_tags],
        })  # fmt: skip
        calls += 1
    return calls


def end_run(rest: MlflowRest, run: RunInfo, status: str, end_ms: int) -> None:
    """Set the run's status (FINISHED, FAILED) and end time."""
    rest.call("POST", "runs/update", {"run_id": run.run_id, "status": status, "end_time": end_ms})
