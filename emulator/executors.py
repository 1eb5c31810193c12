"""How the offline runner executes each step type, given the run's scope (:mod:`emulator.runner`).

Processing and training steps run as local processes, one per instance (:mod:`emulator.hosts`,
:mod:`emulator.processing`, :mod:`emulator.training`), Lambda steps with the synthesized
functions' code (:mod:`emulator.lambdas`), Transform steps with the model's own serving code in one
process (:mod:`emulator.transform`); register and create-model calls go to the AWS stand-in, rendered as
SageMaker renders them (:mod:`emulator.api_shapes`). Condition and Fail steps are decided here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from emulator.api_shapes import as_text, render_request
from emulator.definition import StepEntry
from emulator.expressions import Scope
from emulator.hosts import Hosts, instance_count
from emulator.jobs import JobContext, StepFailedError
from emulator.lambdas import LocalFunction, run_lambda_step
from emulator.local_aws import LocalAws
from emulator.processing import run_processing
from emulator.records import RunResult, StepRecord
from emulator.sagemaker_fakes import create_model_package
from emulator.training import run_training
from emulator.transform import run_transform

#: Step types the runner executes; anything else fails the run, named.
RUNNABLE_TYPES = (
    "Processing",
    "Training",
    "Transform",
    "RegisterModel",
    "Model",
    "Lambda",
    "Condition",
    "Fail",
)

_Executor = Callable[[StepEntry, StepRecord, Any], dict[str, Any]]


def step_notes(step: Mapping[str, Any]) -> list[str]:
    """Settings of a step the local run accepts but cannot honour, said out loud."""
    notes = []
    if step.get("CacheConfig", {}).get("Enabled"):
        notes.append("step caching: not applied locally (the step always runs)")
    if step.get("RetryPolicies"):
        notes.append("retry policies: not applied locally (a failure fails the run at once)")
    return notes


def network_isolated(request: Mapping[str, Any]) -> bool:
    """Whether a processing or training request runs its job without network access."""
    processing = request.get("NetworkConfig", {}).get("EnableNetworkIsolation")
    return bool(processing if processing is not None else request.get("EnableNetworkIsolation"))


class StepExecutor:
    """Runs one step of an execution and returns its properties (what later steps can `Get`).

    ``branch_taken`` (condition step → outcome) and ``result`` (the registered version) are the
    execution's own, updated in place.
    """

    def __init__(
        self,
        *,
        aws: LocalAws,
        scope: Scope,
        run_dir: Path,
        functions: Mapping[str, LocalFunction],
        branch_taken: dict[str, bool],
        result: RunResult,
        network_environment: Mapping[str, str] | None = None,
    ) -> None:
        self.aws = aws
        #: What a job with the network gets on top of its own environment: where the local stand-ins
        #: of services it may call are (the MLflow server's ``MLOPS_MLFLOW_URL``).
        self.network_environment = dict(network_environment or {})
        self.scope = scope
        self.run_dir = run_dir
        self.execution_id = run_dir.name
        self.functions = functions
        self.branch_taken = branch_taken
        self.result = result
        self._by_type: dict[str, _Executor] = {
            "Condition": self._condition,
            "Fail": self._fail,
            "Processing": self._processing,
            "Training": self._training,
            "Transform": self._transform,
            "RegisterModel": self._register,
            "Model": self._model,
            "Lambda": self._lambda,
        }

    def execute(self, entry: StepEntry, record: StepRecord) -> dict[str, Any]:
        """Run one step; returns its properties.

        Raises:
            StepFailedError: the step failed, reached a Fail step, or is of a type not run locally.
        """
        executor = self._by_type.get(record.type)
        if executor is None:
            raise StepFailedError(
                f"step type {record.type!r} cannot run locally; "
                f"the offline runner runs {', '.join(RUNNABLE_TYPES)} steps"
            )
        return executor(entry, record, entry.step.get("Arguments", {}))

    def _condition(self, entry: StepEntry, record: StepRecord, arguments: Any) -> dict[str, Any]:
        # The SDK serializes a list of conditions, all of which must hold (AND).
        outcome = all(self.scope.condition(c) for c in arguments.get("Conditions", []))
        self.branch_taken[record.name] = outcome
        record.outputs["Outcome"] = str(outcome).lower()
        return {"Outcome": outcome}

    def _fail(self, entry: StepEntry, record: StepRecord, arguments: Any) -> dict[str, Any]:
        record.message = str(self.scope.resolve(arguments.get("ErrorMessage", "")))
        raise StepFailedError(record.message or "the pipeline reached a Fail step")

    def _processing(self, entry: StepEntry, record: StepRecord, arguments: Any) -> dict[str, Any]:
        properties = self._run_job(record, "ProcessingJobName", run_processing, arguments)
        for name, out in properties["ProcessingOutputConfig"]["Outputs"].items():
            record.outputs[name] = out["S3Output"]["S3Uri"]
        return properties

    def _training(self, entry: StepEntry, record: StepRecord, arguments: Any) -> dict[str, Any]:
        properties = self._run_job(record, "TrainingJobName", run_training, arguments)
        record.outputs["model"] = properties["ModelArtifacts"]["S3ModelArtifacts"]
        return properties

    def _transform(self, entry: StepEntry, record: StepRecord, arguments: Any) -> dict[str, Any]:
        # a batch transform job runs the model's serving code in one local process (emulator.transform)
        job_name = f"pipelines-{self.execution_id}-{record.name}".lower()
        self.scope.execution["TransformJobName"] = job_name
        job = JobContext(self.run_dir / record.name, self.aws, job_name)
        job.notes, record.log_path = record.notes, job.log_path
        properties = run_transform(job, self._request(record.type, arguments))
        record.process_seconds = job.process_seconds
        record.outputs["predictions"] = properties["TransformOutput"]["S3OutputPath"]
        return properties

    def _register(self, entry: StepEntry, record: StepRecord, arguments: Any) -> dict[str, Any]:
        request = self._request(record.type, arguments)
        arn = create_model_package(self.aws.client("sagemaker"), self.aws.account, **request)
        record.outputs["ModelPackageArn"] = arn
        self.result.model_package_arn, self.result.model_package_request = arn, request
        return {"ModelPackageArn": arn}

    def _model(self, entry: StepEntry, record: StepRecord, arguments: Any) -> dict[str, Any]:
        request = self._request(record.type, arguments)
        request.setdefault("ModelName", f"pipelines-{self.execution_id}-{record.name}".lower())
        arn = self.aws.client("sagemaker").create_model(**request)["ModelArn"]
        record.outputs["ModelName"] = request["ModelName"]
        return {"ModelName": request["ModelName"], "ModelArn": arn}

    def _lambda(self, entry: StepEntry, record: StepRecord, arguments: Any) -> dict[str, Any]:
        record.log_path = self.run_dir / record.name / "lambda.log"
        event = self.scope.resolve(arguments)
        properties = run_lambda_step(entry.step, event, self.functions, self.aws, record.log_path)
        record.outputs.update({k: str(as_text(v)) for k, v in properties["OutputParameters"].items()})
        return properties

    def _run_job(
        self,
        record: StepRecord,
        name_property: str,
        run: Callable[[Hosts, Any], dict[str, Any]],
        arguments: Any,
    ) -> dict[str, Any]:
        """Run a job step locally on its hosts; its process time is recorded even when it fails."""
        job_name = f"pipelines-{self.execution_id}-{record.name}".lower()
        self.scope.execution[name_property] = job_name
        self.scope.execution["CurrentDateTime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        request = self._request(record.type, arguments)
        hosts = Hosts(
            self.run_dir / record.name,
            self.aws,
            job_name,
            instance_count(request),
            record.notes,
            environment={} if network_isolated(request) else self.network_environment,
        )
        record.log_path = hosts.leader.log_path
        if len(hosts.jobs) > 1:
            record.host_logs = hosts.logs
        try:
            return run(hosts, request)
        finally:
            record.process_seconds = hosts.process_seconds
            if hosts.failed is not None:
                record.log_path = hosts.failed.log_path

    def _request(self, kind: str, arguments: Any) -> Any:
        """The step's API request: expressions resolved, rendered as SageMaker sends it."""
        return render_request(self.aws.client("sagemaker"), kind, self.scope.resolve(arguments))
