"""Run a SageMaker pipeline definition end to end on this machine.

Given the definition JSON (the one in the synthesized template, intrinsics resolved) and
parameter overrides, :func:`run_pipeline` resolves parameters, step properties and
expressions, runs processing and training steps as local processes and Lambda steps with the
synthesized functions' code (:mod:`emulator.lambdas`), makes the register (and create-model)
calls for real against the AWS stand-in, follows condition and fail steps, and reports each
step. Requests are rendered as SageMaker renders them (:mod:`emulator.api_shapes`: a Boolean
in a string field is `true`). A step type it cannot run locally fails the run with a
message saying so; nothing is skipped silently.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from emulator.api_shapes import as_text, render_request
from emulator.definition import PipelineDefinitionError, StepEntry, coerce_parameters, dependencies, flatten
from emulator.expressions import ExpressionError, Scope
from emulator.jobs import JobContext, StepFailedError, run_processing
from emulator.lambdas import LocalFunction, run_lambda_step
from emulator.local_aws import LocalAws
from emulator.standins import ACCOUNT, REGION
from emulator.training import run_training

__all__ = ["PipelineDefinitionError", "RunResult", "StepRecord", "run_pipeline"]

PIPELINE_NAME = "offline-pipeline"
#: Step types the runner executes; anything else fails the run, named.
RUNNABLE_TYPES = ("Processing", "Training", "RegisterModel", "Model", "Lambda", "Condition", "Fail")


@dataclass
class StepRecord:
    """What happened to one step."""

    name: str
    type: str
    status: str = "NotStarted"  # Executing | Succeeded | Failed | Skipped | NotStarted
    seconds: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)
    message: str = ""
    #: where the local run differs from SageMaker for this step (spot training, ...)
    notes: list[str] = field(default_factory=list)
    #: of `seconds`, the time the job's own process ran (the rest is transfers and set-up)
    process_seconds: float = 0.0
    #: the job's stdout/stderr, for processing and training steps
    log_path: Path | None = None


@dataclass
class RunResult:
    """An execution's outcome, per step, with the registered model version if any."""

    execution_id: str
    status: str
    run_dir: Path
    steps: list[StepRecord]
    failure: str = ""
    model_package_arn: str | None = None
    #: the CreateModelPackage request as sent (expressions resolved), for the summary
    model_package_request: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the parameter values the run used (defaults overlaid with overrides)
    parameters: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def step(self, name: str) -> StepRecord:
        return next(s for s in self.steps if s.name == name)


def run_pipeline(
    definition: Mapping[str, Any],
    aws: LocalAws,
    run_root: Path,
    *,
    overrides: Mapping[str, Any] | None = None,
    log: Callable[[str], None] = print,
    execution_id: str | None = None,
    pipeline_name: str = PIPELINE_NAME,
    functions: Mapping[str, LocalFunction] | None = None,
) -> RunResult:
    """Execute `definition` locally under `run_root/<execution id>`.

    `functions` are the Lambda functions steps may name by ARN (`emulator.lambdas.functions_from`).
    Returns the result; a failing step ends the run with status Failed rather than raising.

    Raises:
        PipelineDefinitionError: the definition cannot run (unknown parameter or step,
            a dependency cycle, duplicate step names).
    """
    execution = _Execution(
        definition,
        aws,
        run_dir=run_root / (execution_id or uuid.uuid4().hex[:12]),
        overrides=overrides or {},
        pipeline_name=pipeline_name,
        log=log,
        functions=functions or {},
    )
    return execution.run()


def step_notes(step: Mapping[str, Any]) -> list[str]:
    """Settings of a step the local run accepts but cannot honour, said out loud."""
    notes = []
    if step.get("CacheConfig", {}).get("Enabled"):
        notes.append("step caching: not applied locally (the step always runs)")
    if step.get("RetryPolicies"):
        notes.append("retry policies: not applied locally (a failure fails the run at once)")
    arguments = step.get("Arguments", {})
    resources = arguments.get("ProcessingResources", {}).get("ClusterConfig") or arguments.get(
        "ResourceConfig"
    )
    count = (resources or {}).get("InstanceCount", 1)
    if isinstance(count, int) and count > 1:
        notes.append(f"InstanceCount {count}: runs as one local process (one host, all the data)")
    return notes


class _Execution:
    """The state of one run: its scope, step records and branch outcomes."""

    def __init__(
        self,
        definition: Mapping[str, Any],
        aws: LocalAws,
        *,
        run_dir: Path,
        overrides: Mapping[str, Any],
        pipeline_name: str,
        log: Callable[[str], None],
        functions: Mapping[str, LocalFunction],
    ) -> None:
        self.aws = aws
        self.log = log
        self.functions = functions
        self.execution_id = run_dir.name
        self.run_dir = run_dir
        self.entries = flatten(list(definition.get("Steps", [])))
        self.depends = dependencies(self.entries)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        pipeline_arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{pipeline_name}"
        self.scope = Scope(
            parameters=coerce_parameters(definition, overrides),
            execution={
                "PipelineExecutionId": self.execution_id,
                "PipelineExecutionArn": f"{pipeline_arn}/execution/{self.execution_id}",
                "PipelineName": pipeline_name,
                "PipelineArn": pipeline_arn,
                "StartDateTime": now,
                "CurrentDateTime": now,
            },
            read_property_file=self._read_property_file,
            read_s3_json=lambda uri: json.loads(self.aws.read_object(uri)),
        )
        self.records = {e.name: StepRecord(name=e.name, type=e.type) for e in self.entries}
        self.branch_taken: dict[str, bool] = {}
        self.result = RunResult(
            execution_id=self.execution_id,
            status="Executing",
            run_dir=run_dir,
            steps=list(self.records.values()),
        )

    def _read_property_file(self, step: str, name: str) -> Any:
        entry = next(e for e in self.entries if e.name == step)
        spec = next((p for p in entry.step.get("PropertyFiles", []) if p["PropertyFileName"] == name), None)
        if spec is None:
            raise ExpressionError(f"step {step!r} declares no property file {name!r}")
        output = self.scope.get(
            f"Steps.{step}.ProcessingOutputConfig.Outputs['{spec['OutputName']}'].S3Output.S3Uri"
        )
        uri = f"{str(output).rstrip('/')}/{spec['FilePath']}"
        what = f"property file {name!r} of step {step!r} ({uri})"
        try:
            body = self.aws.read_object(uri)
        except ClientError as err:
            why = str(err)
            if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                why = (
                    f"no such object (the step wrote no {spec['FilePath']} in output {spec['OutputName']!r})"
                )
            raise ExpressionError(f"{what}: {why}") from None
        try:
            return json.loads(body)
        except ValueError as err:
            raise ExpressionError(f"{what} is not JSON: {err}") from None

    def run(self) -> RunResult:
        started = time.monotonic()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log(f"▶ pipeline execution {self.execution_id} ({len(self.entries)} steps) in {self.run_dir}")
        pending = list(self.entries)
        while pending and self.result.status == "Executing":
            entry = next((e for e in pending if self._ready(e)), None)
            if entry is None:
                stuck = ", ".join(e.name for e in pending)
                raise PipelineDefinitionError(f"steps {stuck} wait on each other (a dependency cycle)")
            pending.remove(entry)
            skip_reason = self._skip_reason(entry)
            if skip_reason:
                record = self.records[entry.name]
                record.status, record.message = "Skipped", skip_reason
                self.log(f"  ⤼ {entry.name:<20} skipped ({skip_reason})")
                continue
            self._run_step(entry)
        if self.result.status == "Executing":
            self.result.status = "Succeeded"
        self.result.properties = self.scope.properties
        self.result.parameters = self.scope.parameters
        self.result.seconds = time.monotonic() - started
        self.log(
            f"■ pipeline execution {self.execution_id}: {self.result.status} in {self.result.seconds:.1f}s"
        )
        return self.result

    def _ready(self, entry: StepEntry) -> bool:
        return all(self.records[d].status in ("Succeeded", "Skipped") for d in self.depends[entry.name])

    def _skip_reason(self, entry: StepEntry) -> str:
        if entry.parent is not None and self.branch_taken.get(entry.parent) != entry.branch:
            return f"branch of {entry.parent} not taken"
        skipped = sorted(d for d in self.depends[entry.name] if self.records[d].status == "Skipped")
        return f"needs skipped step(s) {', '.join(skipped)}" if skipped else ""

    def _run_step(self, entry: StepEntry) -> None:
        record = self.records[entry.name]
        self.log(f"  ● {record.name:<20} {record.type} …")
        started = time.monotonic()
        record.status = "Executing"
        record.notes += step_notes(entry.step)
        try:
            self.scope.properties[record.name] = self._execute(entry, record)
        except (StepFailedError, ExpressionError) as err:
            if isinstance(err, StepFailedError) and err.properties is not None:
                # a job that ran and failed: its Describe shape (FailureReason) stays readable
                self.scope.properties[record.name] = err.properties
            self._fail(record, str(err), started)
            return
        except Exception as err:  # boto3 errors, unreadable files: the run fails naming the step
            self._fail(record, f"{type(err).__name__}: {err}", started)
            return
        record.status = "Succeeded"
        record.seconds = time.monotonic() - started
        extra = f" → {record.outputs['Outcome']}" if "Outcome" in record.outputs else ""
        self.log(f"  ✓ {record.name:<20} {record.seconds:.1f}s{extra}")
        for note in record.notes:
            self.log(f"      note: {note}")

    def _fail(self, record: StepRecord, message: str, started: float) -> None:
        record.status = "Failed"
        record.message = record.message or message
        record.seconds = time.monotonic() - started
        self.result.status = "Failed"
        self.result.failure = f"step {record.name!r} ({record.type}) failed: {message}"
        self.log(f"  ✗ {record.name:<20} failed after {record.seconds:.1f}s: {message.splitlines()[0]}")

    def _job(self, record: StepRecord, kind: str) -> JobContext:
        job_name = f"pipelines-{self.execution_id}-{record.name}".lower()
        self.scope.execution[kind] = job_name
        self.scope.execution["CurrentDateTime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        job = JobContext(self.run_dir / record.name, self.aws, job_name)
        job.notes = record.notes
        record.log_path = job.log_path
        return job

    def _run_job(
        self,
        record: StepRecord,
        name_property: str,
        run: Callable[[JobContext, Any], dict[str, Any]],
        arguments: Any,
    ) -> dict[str, Any]:
        """Run a job step locally; its process time is recorded even when it fails."""
        job = self._job(record, name_property)
        try:
            return run(job, self._request(record.type, arguments))
        finally:
            record.process_seconds = job.process_seconds

    def _request(self, kind: str, arguments: Any) -> Any:
        """The step's API request: expressions resolved, rendered as SageMaker sends it."""
        return render_request(self.aws.client("sagemaker"), kind, self.scope.resolve(arguments))

    def _execute(self, entry: StepEntry, record: StepRecord) -> dict[str, Any]:
        """Run one step; returns its properties (what later steps can `Get`)."""
        kind, arguments = record.type, entry.step.get("Arguments", {})
        if kind == "Condition":
            # The SDK serializes a list of conditions, all of which must hold (AND).
            outcome = all(self.scope.condition(c) for c in arguments.get("Conditions", []))
            self.branch_taken[record.name] = outcome
            record.outputs["Outcome"] = str(outcome).lower()
            return {"Outcome": outcome}
        if kind == "Fail":
            record.message = str(self.scope.resolve(arguments.get("ErrorMessage", "")))
            raise StepFailedError(record.message or "the pipeline reached a Fail step")
        if kind == "Processing":
            properties = self._run_job(record, "ProcessingJobName", run_processing, arguments)
            for name, out in properties["ProcessingOutputConfig"]["Outputs"].items():
                record.outputs[name] = out["S3Output"]["S3Uri"]
            return properties
        if kind == "Training":
            properties = self._run_job(record, "TrainingJobName", run_training, arguments)
            record.outputs["model"] = properties["ModelArtifacts"]["S3ModelArtifacts"]
            return properties
        if kind == "RegisterModel":
            request = self._request(kind, arguments)
            arn = self.aws.client("sagemaker").create_model_package(**request)["ModelPackageArn"]
            record.outputs["ModelPackageArn"] = arn
            self.result.model_package_arn, self.result.model_package_request = arn, request
            return {"ModelPackageArn": arn}
        if kind == "Model":
            request = self._request(kind, arguments)
            request.setdefault("ModelName", f"pipelines-{self.execution_id}-{record.name}".lower())
            arn = self.aws.client("sagemaker").create_model(**request)["ModelArn"]
            record.outputs["ModelName"] = request["ModelName"]
            return {"ModelName": request["ModelName"], "ModelArn": arn}
        if kind == "Lambda":
            record.log_path = self.run_dir / record.name / "lambda.log"
            event = self.scope.resolve(arguments)
            properties = run_lambda_step(entry.step, event, self.functions, self.aws, record.log_path)
            record.outputs.update({k: str(as_text(v)) for k, v in properties["OutputParameters"].items()})
            return properties
        raise StepFailedError(
            f"step type {kind!r} cannot run locally; "
            f"the offline runner runs {', '.join(RUNNABLE_TYPES)} steps"
        )
