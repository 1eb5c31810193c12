"""A pipeline step whose ``Arguments`` are a SageMaker API request we write ourselves.

Why not the SDK's ``ProcessingStep`` / ``TrainingStep`` / ``ModelStep``? Their arguments come
from running ``Processor.run()`` / ``ModelTrainer.train()`` / ``ModelBuilder.register()`` under a
``PipelineSession``, and on SDK 3.27 that path is not offline: ``ProcessingStep.__init__`` builds a
``LocalSagemakerClient`` (a fresh boto3 session, so a credential lookup that falls back to the
EC2 metadata service), ``ModelTrainer.train`` sends a telemetry event, job names are stamped with
the clock before being trimmed, unset output paths call ``default_bucket()`` (S3/STS), and the
model helpers may upload or repack. Writing the request keeps synth offline and puts every
security setting (KMS, network isolation, VPC, spot) in plain sight.

What stays the SDK's: the ``Pipeline`` compiler, parameters, ``Properties`` (typed against the
botocore shapes, so ``step.properties.ProcessingOutputConfig.Outputs["train"]...`` is checked),
``PropertyFile``/``JsonGet``/``Join``, ``ConditionStep`` and ``FailStep``. The ``Type`` each step
declares (``Processing``, ``Training``, ``RegisterModel``) is what tells SageMaker which API its
``Arguments`` are for, exactly as with the SDK's own classes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stacks.pipeline.sdk import ConfigurableRetryStep, Properties, PropertyFile, StepTypeEnum

#: Step type -> the botocore shape its properties (what later steps can ``Get``) follow.
_DESCRIBE_SHAPES: Mapping[StepTypeEnum, str] = {
    StepTypeEnum.PROCESSING: "DescribeProcessingJobResponse",
    StepTypeEnum.TRAINING: "DescribeTrainingJobResponse",
    StepTypeEnum.REGISTER_MODEL: "DescribeModelPackageOutput",
}


class RequestStep(ConfigurableRetryStep):  # type: ignore[misc]  # the SDK is untyped
    """A Processing, Training or RegisterModel step built from an explicit API request."""

    def __init__(
        self,
        *,
        name: str,
        step_type: StepTypeEnum,
        arguments: dict[str, Any],
        description: str,
        property_files: Sequence[PropertyFile] = (),
    ) -> None:
        if step_type not in _DESCRIBE_SHAPES:
            raise ValueError(
                f"RequestStep supports {sorted(t.value for t in _DESCRIBE_SHAPES)}, got {step_type}"
            )
        super().__init__(name=name, step_type=step_type, description=description)
        self._arguments = arguments
        self._properties = Properties(step_name=name, step=self, shape_name=_DESCRIBE_SHAPES[step_type])
        self.property_files = list(property_files)

    @property
    def arguments(self) -> dict[str, Any]:
        """The API request (``CreateProcessingJob`` / ``CreateTrainingJob`` / ``CreateModelPackage``)."""
        return self._arguments

    @property
    def properties(self) -> Any:
        """The step's properties, typed by the matching ``Describe*`` botocore shape."""
        return self._properties

    def to_request(self) -> dict[str, Any]:
        """The step as it appears in the definition, property files included."""
        request: dict[str, Any] = super().to_request()
        if self.property_files:
            request["PropertyFiles"] = [pf.expr for pf in self.property_files]
        return request
