"""Run a SageMaker pipeline definition end to end on this machine.

Given the definition JSON (the one in the synthesized template, intrinsics resolved) and
parameter overrides, :func:`run_pipeline` resolves parameters, step properties and
expressions, runs processing and training steps as local processes and Lambda steps with the
synthesized functions' code (:mod:`emulator.lambdas`), makes the register (and create-model)
calls for real against the AWS stand-in, follows condition and fail steps, and reports each
step. Requests are rendered as SageMaker renders them (:mod:`emulator.api_shapes`: a Boolean
in a string field is `true`). A step type it cannot run locally fails the run with a
message saying so; nothing is skipped silently.

This module orders the steps (dependencies, branches, skips) and records what happened;
:mod:`emulator.executors` runs each step by its type.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from emulator.definition import PipelineDefinitionError, StepEntry, coerce_parameters, dependencies, flatten
from emulator.executors import StepExecutor, step_notes
from emulator.expressions import ExpressionError, Scope
from emulator.jobs import StepFailedError
from emulator.lambdas import LocalFunction
from emulator.local_aws import LocalAws
from emulator.records import RunResult, StepRecord
from emulator.standins import REGION
from ml_code import contract

__all__ = ["PipelineDefinitionError", "RunResult", "StepRecord", "run_pipeline"]

PIPELINE_NAME = "offline-pipeline"


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
    mlflow_url: str | None = None,
) -> RunResult:
    """Execute `definition` locally under `run_root/<execution id>`.

    `functions` are the Lambda functions steps may name by ARN (`emulator.lambdas.functions_from`).
    `mlflow_url`: the local MLflow server (:mod:`emulator.tracking_server`) standing in for the
    tracking server; jobs with the network get it as ``MLOPS_MLFLOW_URL`` (the Track steps log there).
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
        mlflow_url=mlflow_url,
    )
    return execution.run()


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
        mlflow_url: str | None = None,
    ) -> None:
        self.aws = aws
        self.log = log
        self.execution_id = run_dir.name
        self.run_dir = run_dir
        self.entries = flatten(list(definition.get("Steps", [])))
        self.depends = dependencies(self.entries)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        pipeline_arn = f"arn:aws:sagemaker:{REGION}:{aws.account}:pipeline/{pipeline_name}"
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
        self.executor = StepExecutor(
            aws=aws,
            scope=self.scope,
            run_dir=run_dir,
            functions=functions,
            branch_taken=self.branch_taken,
            result=self.result,
            network_environment={contract.MLFLOW_URL_ENV: mlflow_url} if mlflow_url else None,
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
            self.scope.properties[record.name] = self.executor.execute(entry, record)
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
