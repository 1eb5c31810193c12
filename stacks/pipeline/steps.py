"""Pipeline steps and the definition around them, written as the JSON SageMaker Pipelines reads.

Why not the SageMaker Python SDK's ``Pipeline`` and step classes? Two reasons:

* Its job steps (``ProcessingStep``, ``TrainingStep``, ``ModelStep``) take their arguments from
  ``Processor.run()`` / ``ModelTrainer.train()`` / ``ModelBuilder.register()`` under a
  ``PipelineSession``, and on SDK 3.27 that path is not offline: a fresh boto3 session (so a
  credential lookup that falls back to the EC2 metadata service), a telemetry event, job names
  stamped with the clock, ``default_bucket()`` (S3/STS) for unset paths, model repacking. So job
  steps carry the API request we write ourselves (``requests.py``, ``register.py``), every
  security setting (KMS, network isolation, VPC, spot) in plain sight; the ``Type`` each step
  declares (``Processing``, ``Training``, ``RegisterModel``) tells SageMaker which API it is for.
* What is left for the SDK, compiling steps, parameters and expressions to JSON, costs the
  import of all of ``sagemaker.core`` (pandas, a pydantic model per API shape): about 4.5 s of a
  ``cdk synth`` that is meant to add little to CDK's own time (benchmarks/README.md). The JSON is
  small and documented (the pipeline definition schema), so it is written here.

``tests/unit/test_definition_sdk.py`` rebuilds every definition with the SDK's own classes and
compiler and requires the same JSON, and walks each ``Get`` of a step property through the
SDK's ``Properties`` (typed by botocore's ``Describe*`` shapes): an SDK change of shape, or a
property path the API does not have, fails there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from stacks.pipeline.expressions import Json, Parameter, PropertyFile, get, json_get

PROCESSING: Final = "Processing"
TRAINING: Final = "Training"
REGISTER_MODEL: Final = "RegisterModel"
#: Definition format version SageMaker Pipelines reads (the one the SDK writes).
VERSION: Final = "2020-12-01"


def _step(name: str, type_: str, arguments: Json, description: str, depends_on: Sequence[str] = ()) -> Json:
    """What every step has (the SDK's ``Step.to_request``): an empty description is left out."""
    request: Json = {"Name": name, "Type": type_, "Arguments": arguments}
    if depends_on:
        request["DependsOn"] = list(depends_on)
    if description:
        request["Description"] = description
    return request


@dataclass(frozen=True, kw_only=True)
class JobStep:
    """A Processing, Training or RegisterModel step built from an explicit API request."""

    name: str
    type: str
    description: str
    #: The ``CreateProcessingJob`` / ``CreateTrainingJob`` / ``CreateModelPackage`` request.
    arguments: Json
    property_files: tuple[PropertyFile, ...] = ()

    def __post_init__(self) -> None:
        if self.type not in (PROCESSING, TRAINING, REGISTER_MODEL):
            raise ValueError(f"a job step is Processing, Training or RegisterModel, got {self.type!r}")
        for report in self.property_files:
            self._check_output(report.output_name)

    def _check_output(self, output: str) -> None:
        declared = [
            o["OutputName"] for o in self.arguments.get("ProcessingOutputConfig", {}).get("Outputs", [])
        ]
        if self.type != PROCESSING or output not in declared:
            raise ValueError(f"step {self.name} has no processing output {output!r} (it has {declared})")

    def output_uri(self, output: str) -> Json:
        """Where processing output ``output`` of this step was uploaded.

        Raises:
            ValueError: this is not a processing step, or it declares no such output.
        """
        self._check_output(output)
        return get(f"Steps.{self.name}.ProcessingOutputConfig.Outputs['{output}'].S3Output.S3Uri")

    def model_artifacts(self) -> Json:
        """The ``model.tar.gz`` URI this training step produced.

        Raises:
            ValueError: this is not a training step.
        """
        if self.type != TRAINING:
            raise ValueError(f"step {self.name} is {self.type}, not Training: it has no model artifacts")
        return get(f"Steps.{self.name}.ModelArtifacts.S3ModelArtifacts")

    def json_get(self, property_file: PropertyFile, path: str) -> Json:
        """The value at JSON ``path`` of ``property_file``, one of this step's property files."""
        if property_file not in self.property_files:
            raise ValueError(f"step {self.name} declares no property file {property_file.name!r}")
        return json_get(self.name, property_file, path)

    def request(self) -> Json:
        request = _step(self.name, self.type, self.arguments, self.description)
        if self.property_files:
            request["PropertyFiles"] = [p.request() for p in self.property_files]
        return request


@dataclass(frozen=True, kw_only=True)
class LambdaStep:
    """A step invoking a Lambda function with ``arguments``, returning the named ``outputs``."""

    name: str
    description: str
    function_arn: str
    arguments: Json
    #: Output name -> type (``String``, ``Integer``, ``Float``, ``Boolean``).
    outputs: Mapping[str, str]
    depends_on: tuple[str, ...] = ()

    def output(self, name: str) -> Json:
        """The function's output ``name`` (one of :attr:`outputs`)."""
        if name not in self.outputs:
            raise ValueError(f"step {self.name} declares no output {name!r} (it has {sorted(self.outputs)})")
        return get(f"Steps.{self.name}.OutputParameters['{name}']")

    def request(self) -> Json:
        request = _step(self.name, "Lambda", self.arguments, self.description, self.depends_on)
        request["FunctionArn"] = self.function_arn
        request["OutputParameters"] = [{"OutputName": n, "OutputType": t} for n, t in self.outputs.items()]
        return request


@dataclass(frozen=True, kw_only=True)
class FailStep:
    """A step that ends the execution as failed, with ``error_message`` (text or an expression)."""

    name: str
    error_message: Any
    #: Steps it waits for beyond its branch (the rejected run's Track step).
    depends_on: tuple[str, ...] = ()

    def request(self) -> Json:
        return _step(self.name, "Fail", {"ErrorMessage": self.error_message}, "", self.depends_on)


@dataclass(frozen=True, kw_only=True)
class ConditionStep:
    """Runs ``if_steps`` when every condition holds, else ``else_steps``."""

    name: str
    description: str
    conditions: Sequence[Json]
    if_steps: Sequence[Step]
    else_steps: Sequence[Step]

    def request(self) -> Json:
        arguments = {
            "Conditions": list(self.conditions),
            "IfSteps": [s.request() for s in self.if_steps],
            "ElseSteps": [s.request() for s in self.else_steps],
        }
        return _step(self.name, "Condition", arguments, self.description)


Step: TypeAlias = JobStep | LambdaStep | FailStep | ConditionStep


def _names(steps: Sequence[Step]) -> Iterator[str]:
    for step in steps:
        yield step.name
        if isinstance(step, ConditionStep):
            yield from _names([*step.if_steps, *step.else_steps])


def pipeline_definition(parameters: Sequence[Parameter], steps: Sequence[Step]) -> Json:
    """The whole definition: what ``CreatePipeline`` takes as ``PipelineDefinition``.

    No experiment configuration (no automatic experiment and trial per run) and no MLflow.

    Raises:
        ValueError: two steps share a name (branches included).
    """
    names = list(_names(steps))
    if len(names) != len(set(names)):
        raise ValueError(f"step names must be unique in a pipeline, got {names}")
    return {
        "Version": VERSION,
        "Metadata": {},
        "Parameters": [p.request() for p in parameters],
        "PipelineExperimentConfig": None,
        "MlflowConfig": None,
        "Steps": [s.request() for s in steps],
    }
