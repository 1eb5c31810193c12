"""Run a SageMaker pipeline definition end to end on this machine.

Given the definition JSON (the one in the synthesized template, intrinsics resolved) and
parameter overrides, :func:`run_pipeline` resolves parameters, step properties and
expressions, runs processing and training steps as local processes, performs the
register step as a real `CreateModelPackage` call against the AWS stand-in, follows
condition and fail steps, and reports each step. A step type it cannot run locally
fails the run with a message saying so; nothing is skipped silently.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offline.expressions import ExpressionError, Scope
from offline.jobs import JobContext, StepFailedError, run_processing, run_training
from offline.local_aws import LocalAws

PIPELINE_NAME = "offline-pipeline"


@dataclass
class StepRecord:
    """What happened to one step."""

    name: str
    type: str
    status: str = "NotStarted"  # Succeeded | Failed | Skipped | Executing
    seconds: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)
    message: str = ""


@dataclass
class RunResult:
    """An execution's outcome, per step, with the registered model version if any."""

    execution_id: str
    status: str
    run_dir: Path
    steps: list[StepRecord]
    failure: str = ""
    model_package_arn: str | None = None
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)

    def step(self, name: str) -> StepRecord:
        return next(s for s in self.steps if s.name == name)


class PipelineDefinitionError(ValueError):
    """The definition itself is unusable (unknown parameter, cycle, bad reference)."""


def _flatten(steps: list[dict[str, Any]], parent: str | None, branch: bool | None) -> list[tuple]:
    out: list[tuple] = []
    for step in steps:
        out.append((step, parent, branch))
        if step.get("Type") == "Condition":
            out += _flatten(step["Arguments"].get("IfSteps", []), step["Name"], True)
            out += _flatten(step["Arguments"].get("ElseSteps", []), step["Name"], False)
    return out


def _references(value: Any) -> set[str]:
    """Names of the steps an expression tree refers to."""
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value)) if value else set()
    if isinstance(value, dict):
        if set(value) == {"Get"} and isinstance(value["Get"], str) and value["Get"].startswith("Steps."):
            return {value["Get"].split(".")[1]}
        return set().union(*(_references(v) for v in value.values())) if value else set()
    return set()


def coerce_parameters(definition: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Parameter values: defaults overlaid with overrides, typed as the definition says."""
    declared = {p["Name"]: p for p in definition.get("Parameters", [])}
    unknown = set(overrides) - set(declared)
    if unknown:
        raise PipelineDefinitionError(
            f"unknown pipeline parameter(s) {', '.join(sorted(unknown))}; the definition has "
            f"{', '.join(sorted(declared))}"
        )
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        raw = overrides.get(name, spec.get("DefaultValue"))
        if raw is None:
            raise PipelineDefinitionError(f"pipeline parameter {name!r} has no default and no value was given")
        kind = spec.get("Type", "String")
        try:
            value: Any = {"Integer": int, "Float": float, "Boolean": _boolean}.get(kind, str)(raw)
        except ValueError:
            raise PipelineDefinitionError(f"pipeline parameter {name!r} is {kind}, got {raw!r}") from None
        if spec.get("EnumValues") and value not in spec["EnumValues"]:
            raise PipelineDefinitionError(
                f"pipeline parameter {name!r} must be one of {', '.join(spec['EnumValues'])}, got {value!r}"
            )
        values[name] = value
    return values


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if str(raw).lower() in ("true", "false"):
        return str(raw).lower() == "true"
    raise ValueError(raw)


def run_pipeline(
    definition: Mapping[str, Any],
    aws: LocalAws,
    run_root: Path,
    overrides: Mapping[str, Any] | None = None,
    log: Callable[[str], None] = print,
    execution_id: str | None = None,
) -> RunResult:
    """Execute `definition` locally. Returns the result; step failures do not raise."""
    execution_id = execution_id or uuid.uuid4().hex[:12]
    run_dir = run_root / execution_id
    run_dir.mkdir(parents=True, exist_ok=True)
    entries = _flatten(list(definition.get("Steps", [])), None, None)
    names = [e[0]["Name"] for e in entries]
    if len(set(names)) != len(names):
        raise PipelineDefinitionError(f"step names must be unique, got {names}")
    scope = Scope(
        parameters=coerce_parameters(definition, overrides or {}),
        execution={
            "PipelineExecutionId": execution_id,
            "PipelineExecutionArn": f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{PIPELINE_NAME}/execution/{execution_id}",
            "PipelineName": PIPELINE_NAME,
            "StartDateTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "CurrentDateTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    )
    records = {name: StepRecord(name=name, type=e[0]["Type"]) for name, e in zip(names, entries, strict=True)}
    property_files: dict[str, dict[str, dict[str, Any]]] = {
        e[0]["Name"]: {p["PropertyFileName"]: p for p in e[0].get("PropertyFiles", [])} for e in entries
    }

    def read_property_file(step: str, name: str) -> Any:
        spec = property_files.get(step, {}).get(name)
        if spec is None:
            raise ExpressionError(f"step {step!r} declares no property file {name!r}")
        output = scope.get(f"Steps.{step}.ProcessingOutputConfig.Outputs['{spec['OutputName']}'].S3Output.S3Uri")
        return json.loads(aws.read_object(f"{output.rstrip('/')}/{spec['FilePath']}"))

    scope.read_property_file = read_property_file
    depends = {
        e[0]["Name"]: (_references(e[0].get("Arguments", {})) | set(e[0].get("DependsOn", [])))
        | ({e[1]} if e[1] else set())
        for e in entries
    }
    for name, deps in depends.items():
        missing = deps - set(names)
        if missing:
            raise PipelineDefinitionError(f"step {name!r} refers to unknown step(s) {', '.join(sorted(missing))}")
    branch_taken: dict[str, bool] = {}
    result = RunResult(execution_id=execution_id, status="Executing", run_dir=run_dir, steps=list(records.values()))
    log(f"▶ pipeline execution {execution_id} ({len(entries)} steps) in {run_dir}")
    pending = list(entries)
    while pending and result.status == "Executing":
        ready = [e for e in pending if all(records[d].status in ("Succeeded", "Skipped") for d in depends[e[0]["Name"]])]
        if not ready:
            stuck = ", ".join(e[0]["Name"] for e in pending)
            raise PipelineDefinitionError(f"steps {stuck} wait on each other (a dependency cycle)")
        step, parent, branch = ready[0]
        pending.remove(ready[0])
        record = records[step["Name"]]
        skipped_dep = any(records[d].status == "Skipped" for d in depends[step["Name"]] if d != parent)
        if (parent is not None and branch_taken.get(parent) != branch) or skipped_dep:
            record.status = "Skipped"
            record.message = "branch not taken" if not skipped_dep else "a step it needs was skipped"
            log(f"  ⤼ {record.name:<20} skipped ({record.message})")
            continue
        _run_step(step, record, scope, aws, run_dir, execution_id, branch_taken, result, log)
    if result.status == "Executing":
        result.status = "Succeeded"
    result.properties = scope.properties
    return result


def _run_step(
    step: Mapping[str, Any],
    record: StepRecord,
    scope: Scope,
    aws: LocalAws,
    run_dir: Path,
    execution_id: str,
    branch_taken: dict[str, bool],
    result: RunResult,
    log: Callable[[str], None],
) -> None:
    log(f"  ● {record.name:<20} {record.type} …")
    started = time.monotonic()
    record.status = "Executing"
    try:
        kind = record.type
        if kind == "Condition":
            outcome = all(scope.condition(c) for c in step["Arguments"]["Conditions"])
            branch_taken[record.name] = outcome
            record.outputs["Outcome"] = str(outcome).lower()
            scope.properties[record.name] = {"Outcome": outcome}
        elif kind == "Fail":
            message = str(scope.resolve(step["Arguments"].get("ErrorMessage", "")))
            record.message = message
            scope.properties[record.name] = {}
            raise StepFailedError(message or "Fail step reached")
        elif kind == "Processing":
            job = JobContext(run_dir / record.name, aws)
            scope.properties[record.name] = run_processing(job, scope.resolve(step["Arguments"]))
            for name, out in scope.properties[record.name]["ProcessingOutputConfig"]["Outputs"].items():
                record.outputs[name] = out["S3Output"]["S3Uri"]
        elif kind == "Training":
            job = JobContext(run_dir / record.name, aws)
            job_name = f"pipelines-{execution_id}-{record.name}".lower()
            scope.properties[record.name] = run_training(job, scope.resolve(step["Arguments"]), job_name)
            record.outputs["model"] = scope.properties[record.name]["ModelArtifacts"]["S3ModelArtifacts"]
        elif kind == "RegisterModel":
            arguments = scope.resolve(step["Arguments"])
            response = aws.client("sagemaker").create_model_package(**arguments)
            arn = response["ModelPackageArn"]
            scope.properties[record.name] = {"ModelPackageArn": arn}
            record.outputs["ModelPackageArn"] = arn
            result.model_package_arn = arn
        else:
            raise StepFailedError(
                f"step type {kind!r} cannot run locally (the offline runner runs Processing, Training, "
                "RegisterModel, Condition and Fail steps)"
            )
    except (StepFailedError, ExpressionError) as err:
        record.status = "Failed"
        record.message = record.message or str(err)
        result.status = "Failed"
        result.failure = f"step {record.name!r} ({record.type}) failed: {err}"
        record.seconds = time.monotonic() - started
        log(f"  ✗ {record.name:<20} failed after {record.seconds:.1f}s: {str(err).splitlines()[0]}")
        return
    except Exception as err:  # boto3 errors, unreadable files: the run fails naming the step
        record.status = "Failed"
        record.message = f"{type(err).__name__}: {err}"
        result.status = "Failed"
        result.failure = f"step {record.name!r} ({record.type}) failed: {record.message}"
        record.seconds = time.monotonic() - started
        log(f"  ✗ {record.name:<20} failed after {record.seconds:.1f}s: {record.message}")
        return
    record.status = "Succeeded"
    record.seconds = time.monotonic() - started
    extra = f" → {record.outputs['Outcome']}" if "Outcome" in record.outputs else ""
    log(f"  ✓ {record.name:<20} {record.seconds:.1f}s{extra}")
