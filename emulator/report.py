"""The run summary printed after an offline pipeline execution.

Per step: status, duration, outputs, why it was skipped or failed, where the local
run differs from SageMaker (for a job of several instances: its hosts), and each host's log; for a
Track step, the MLflow run it logged (its ``tracking.json``).
Then the registered model version, read back from the (local) registry, with the metrics of
the report it was registered with.
"""

from __future__ import annotations

import json
from typing import Any

from emulator.local_aws import LocalAws
from emulator.runner import RunResult, StepRecord
from ml_code import contract

#: Metrics shown per registered version, in this order when present (the rest follow).
_HEADLINE_METRICS = ("auc", "accuracy", "f1", "precision", "recall", "r2", "rmse", "mae")


def summary_lines(result: RunResult, aws: LocalAws) -> list[str]:
    """The summary of `result` as lines of text (registry reads go to `aws`)."""
    lines = [f"Execution {result.execution_id}: {result.status} in {result.seconds:.1f}s"]
    for step in result.steps:
        process = f" (its process {step.process_seconds:.1f}s)" if step.process_seconds else ""
        lines.append(f"  {step.name:<20} {step.type:<14} {step.status:<11} {step.seconds:6.1f}s{process}")
        lines += [f"      {key}: {value}" for key, value in step.outputs.items()]
        run = tracking_run(step, aws)
        if run is not None:
            lines.append(f"      MLflow run: {run.get('run_url') or run.get('run_id')}")
        if step.status in ("Skipped", "Failed") and step.message:
            lines.append(f"      {step.status.lower()}: {step.message.splitlines()[0]}")
        if step.status == "Failed" and step.log_path is not None:
            lines.append(f"      job log: {step.log_path}")
        lines += [f"      note: {note}" for note in step.notes]
        lines += [f"      {host} log: {path}" for host, path in step.host_logs.items()]
    if result.failure:  # in full: a failed job's message carries the last lines of its log
        lines += [f"  ! {line}" for line in result.failure.splitlines()]
    if result.model_package_arn:
        lines += registered_lines(result, aws)
    return lines


def tracking_run(step: StepRecord, aws: LocalAws) -> dict[str, Any] | None:
    """What a Track step wrote (``{"run_id", "experiment_id", "run_url"}``), if ``step`` is one that
    succeeded; None for any other step."""
    uri = step.outputs.get(contract.TRACKING_OUTPUT)
    if uri is None or step.status != "Succeeded":
        return None
    run: dict[str, Any] = json.loads(aws.read_object(f"{uri.rstrip('/')}/{contract.TRACKING_FILE}"))
    return run


def registered_lines(result: RunResult, aws: LocalAws) -> list[str]:
    """The registered version as the registry reports it, and its model-quality metrics."""
    assert result.model_package_arn is not None
    package = aws.client("sagemaker").describe_model_package(ModelPackageName=result.model_package_arn)
    lines = [
        f"  Registered: {package.get('ModelPackageGroupName')} version {package.get('ModelPackageVersion')} "
        f"({package['ModelApprovalStatus']}) {result.model_package_arn}"
    ]
    uri = (
        result.model_package_request.get("ModelMetrics", {})
        .get("ModelQuality", {})
        .get("Statistics", {})
        .get("S3Uri")
    )
    if uri:
        metrics = headline_metrics(json.loads(aws.read_object(uri)))
        shown = ", ".join(f"{name} {value:.4f}" for name, value in metrics.items())
        lines.append(f"  Metrics ({uri}): {shown or 'none found'}")
    return lines


def headline_metrics(report: dict[str, Any], limit: int = 6) -> dict[str, float]:
    """Scalar `{"value": x}` metrics of a model-quality report, headline ones first."""
    found: dict[str, float] = {}
    for section in report.values():
        if not isinstance(section, dict):
            continue
        for name, metric in section.items():
            if isinstance(metric, dict) and isinstance(metric.get("value"), (int, float)):
                found[name] = float(metric["value"])
    ordered = [n for n in _HEADLINE_METRICS if n in found] + [n for n in found if n not in _HEADLINE_METRICS]
    return {name: found[name] for name in ordered[:limit]}
