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


#: A step with the condition step (and branch) it sits under, if any.
Entry = tuple[dict[str, Any], str | None, bool | None]


def _flatten(steps: list[dict[str, Any]], parent: str | None, branch: bool | None) -> list[Entry]:
    out: list[Entry] = []
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
            raise PipelineDefinitionError(
                f"pipeline parameter {name!r} has no default and no value was given"
            )
        kind = spec.get("Type", "String")
        try:
            value = _CONVERTERS.get(kind, str)(raw)
        except ValueError:
            raise PipelineDefinitionError(f"pipeline parameter {name!r} is {kind}, got {raw!r}") from None
        if spec.get("EnumValues") and value not in spec["EnumValues"]:
            raise PipelineDefinitionError(
                f"pipeline parameter {name!r} must be one of {', '.join(spec['EnumValues'])}, got {value!r}"
            )
        values[name] = value
    return values


def _boolean(raw: Any) -> bool:
    """Pipeline Boolean parameters: a bool, or the strings true/false in any case."""
    if isinstance(raw, bool):
        return raw
    if str(raw).lower() in ("true", "false"):
        return str(raw).lower() == "true"
    raise ValueError(raw)


_CONVERTERS: dict[str, Callable[[Any], Any]] = {"Integer": int, "Float": float, "Boolean": _boolean}


def run_pipeline(
    definition: Mapping[str, Any],
    aws: LocalAws,
    run_root: Path,
    *,
    overrides: Mapping[str, Any] | None = None,
    log: Callable[[str], None] = print,
    execution_id: str | None = None,
) -> RunResult:
    """Execute `definition` locally under `run_root/<execution id>`.

    Returns the result; a failing step ends the run with status Failed rather than raising.

    Raises:
        PipelineDefinitionError: the definition cannot run (unknown parameter or step,
            a dependency cycle, duplicate step names).
    """
    execution = _Execution(
        definition,
        aws,
        run_root=run_root,
        overrides=overrides or {},
        execution_id=execution_id or uuid.uuid4().hex[:12],
        log=log,
    )
    return execution.run()


class _Execution:
    """The state of one run: its scope, step records and branch outcomes."""

    def __init__(
        self,
        definition: Mapping[str, Any],
        aws: LocalAws,
        *,
        run_root: Path,
        overrides: Mapping[str, Any],
        execution_id: str,
        log: Callable[[str], None],
    ) -> None:
        self.aws = aws
        self.log = log
        self.execution_id = execution_id
        self.run_dir = run_root / execution_id
        self.entries = _flatten(list(definition.get("Steps", [])), None, None)
        names = [e[0]["Name"] for e in self.entries]
        if len(set(names)) != len(names):
            raise PipelineDefinitionError(f"step names must be unique, got {names}")
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        arn = f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{PIPELINE_NAME}"
        self.scope = Scope(
            parameters=coerce_parameters(definition, overrides),
            execution={
                "PipelineExecutionId": execution_id,
                "PipelineExecutionArn": f"{arn}/execution/{execution_id}",
                "PipelineName": PIPELINE_NAME,
                "StartDateTime": now,
                "CurrentDateTime": now,
            },
            read_property_file=self._read_property_file,
        )
        self.records = {e[0]["Name"]: StepRecord(name=e[0]["Name"], type=e[0]["Type"]) for e in self.entries}
        self.property_files = {
            e[0]["Name"]: {p["PropertyFileName"]: p for p in e[0].get("PropertyFiles", [])}
            for e in self.entries
        }
        self.depends = {
            e[0]["Name"]: _references(e[0].get("Arguments", {}))
            | set(e[0].get("DependsOn", []))
            | ({e[1]} if e[1] else set())
            for e in self.entries
        }
        for name, deps in self.depends.items():
            missing = deps - set(names)
            if missing:
                raise PipelineDefinitionError(
                    f"step {name!r} refers to unknown step(s) {', '.join(sorted(missing))}"
                )
        self.branch_taken: dict[str, bool] = {}
        self.result = RunResult(
            execution_id=execution_id,
            status="Executing",
            run_dir=self.run_dir,
            steps=list(self.records.values()),
        )

    def _read_property_file(self, step: str, name: str) -> Any:
        spec = self.property_files.get(step, {}).get(name)
        if spec is None:
            raise ExpressionError(f"step {step!r} declares no property file {name!r}")
        output = self.scope.get(
            f"Steps.{step}.ProcessingOutputConfig.Outputs['{spec['OutputName']}'].S3Output.S3Uri"
        )
        return json.loads(self.aws.read_object(f"{output.rstrip('/')}/{spec['FilePath']}"))

    def _ready(self, entry: Entry) -> bool:
        return all(self.records[d].status in ("Succeeded", "Skipped") for d in self.depends[entry[0]["Name"]])

    def run(self) -> RunResult:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log(f"▶ pipeline execution {self.execution_id} ({len(self.entries)} steps) in {self.run_dir}")
        pending = list(self.entries)
        while pending and self.result.status == "Executing":
            ready = [e for e in pending if self._ready(e)]
            if not ready:
                stuck = ", ".join(e[0]["Name"] for e in pending)
                raise PipelineDefinitionError(f"steps {stuck} wait on each other (a dependency cycle)")
            step, parent, branch = ready[0]
            pending.remove(ready[0])
            record = self.records[step["Name"]]
            needs = (d for d in self.depends[record.name] if d != parent)
            skipped_dependency = any(self.records[d].status == "Skipped" for d in needs)
            if skipped_dependency or (parent is not None and self.branch_taken.get(parent) != branch):
                record.status = "Skipped"
                record.message = "a step it needs was skipped" if skipped_dependency else "branch not taken"
                self.log(f"  ⤼ {record.name:<20} skipped ({record.message})")
                continue
            self._run_step(step, record)
        if self.result.status == "Executing":
            self.result.status = "Succeeded"
        self.result.properties = self.scope.properties
        return self.result

    def _run_step(self, step: Mapping[str, Any], record: StepRecord) -> None:
        self.log(f"  ● {record.name:<20} {record.type} …")
        started = time.monotonic()
        record.status = "Executing"
        try:
            self.scope.properties[record.name] = self._execute(step, record)
        except (StepFailedError, ExpressionError) as err:
            self._fail(record, str(err), started)
            return
        except Exception as err:  # boto3 errors, unreadable files: the run fails naming the step
            self._fail(record, f"{type(err).__name__}: {err}", started)
            return
        record.status = "Succeeded"
        record.seconds = time.monotonic() - started
        extra = f" → {record.outputs['Outcome']}" if "Outcome" in record.outputs else ""
        self.log(f"  ✓ {record.name:<20} {record.seconds:.1f}s{extra}")

    def _fail(self, record: StepRecord, message: str, started: float) -> None:
        record.status = "Failed"
        record.message = record.message or message
        record.seconds = time.monotonic() - started
        self.result.status = "Failed"
        self.result.failure = f"step {record.name!r} ({record.type}) failed: {message}"
        self.log(f"  ✗ {record.name:<20} failed after {record.seconds:.1f}s: {message.splitlines()[0]}")

    def _execute(self, step: Mapping[str, Any], record: StepRecord) -> dict[str, Any]:
        """Run one step; returns its properties (what later steps can `Get`)."""
        kind = record.type
        if kind == "Condition":
            outcome = all(self.scope.condition(c) for c in step["Arguments"]["Conditions"])
            self.branch_taken[record.name] = outcome
            record.outputs["Outcome"] = str(outcome).lower()
            return {"Outcome": outcome}
        if kind == "Fail":
            record.message = str(self.scope.resolve(step["Arguments"].get("ErrorMessage", "")))
            raise StepFailedError(record.message or "Fail step reached")
        if kind == "Processing":
            properties = run_processing(
                JobContext(self.run_dir / record.name, self.aws), self.scope.resolve(step["Arguments"])
            )
            for name, out in properties["ProcessingOutputConfig"]["Outputs"].items():
                record.outputs[name] = out["S3Output"]["S3Uri"]
            return properties
        if kind == "Training":
            job_name = f"pipelines-{self.execution_id}-{record.name}".lower()
            job = JobContext(self.run_dir / record.name, self.aws)
            properties = run_training(job, self.scope.resolve(step["Arguments"]), job_name)
            record.outputs["model"] = properties["ModelArtifacts"]["S3ModelArtifacts"]
            return properties
        if kind == "RegisterModel":
            arguments = self.scope.resolve(step["Arguments"])
            arn = self.aws.client("sagemaker").create_model_package(**arguments)["ModelPackageArn"]
            record.outputs["ModelPackageArn"] = arn
            self.result.model_package_arn = arn
            return {"ModelPackageArn": arn}
        raise StepFailedError(
            f"step type {kind!r} cannot run locally (the offline runner runs Processing, Training, "
            "RegisterModel, Condition and Fail steps)"
        )
