"""The pipeline parameters: their names are the run API (each run may override any of them)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final

from ml_code import contract
from stacks.pipeline.expressions import Parameter, float_parameter, string_parameter
from stacks.pipeline.props import DefinitionProps

#: The tracked pipeline's parameter naming the commit an execution runs (release.start_pipeline sets it).
SOURCE_COMMIT: Final = "SourceCommit"
UNKNOWN_COMMIT: Final = "unknown"
#: QualityThreshold's value for "no absolute threshold" (Evaluate also takes an empty value).
NO_THRESHOLD: Final = "none"


def threshold_default(threshold: float | None) -> str:
    """QualityThreshold's default: ``pipeline.qualityThreshold`` as text, or ``none``."""
    return NO_THRESHOLD if threshold is None else f"{threshold:g}"


@dataclass(frozen=True)
class PipelineParameters:
    """The pipeline's parameters (``.expr`` of each is its value in a run); defaults come from config."""

    input_uri: Parameter
    target: Parameter
    problem: Parameter
    processing_type: Parameter
    training_type: Parameter
    threshold: Parameter
    margin: Parameter
    #: With a tracking server only: the commit the build started this execution for (the Track step
    #: logs it as ``git_commit``); the build passes ``$CODEBUILD_RESOLVED_SOURCE_VERSION``, anyone
    #: else may leave the default.
    source_commit: Parameter | None = None

    def all(self) -> list[Parameter]:
        """Every parameter, in declaration order (the ones this definition has)."""
        found = (getattr(self, field.name) for field in fields(self))
        return [parameter for parameter in found if parameter is not None]

    @classmethod
    def create(cls, props: DefinitionProps) -> PipelineParameters:
        return cls(
            string_parameter("InputDataUri", f"s3://{props.artifact_bucket}/{props.input_prefix}"),
            string_parameter("TargetColumn", props.target_column),
            string_parameter("ProblemType", props.problem_type, enum_values=contract.PROBLEM_TYPES),
            string_parameter("ProcessingInstanceType", props.processing_instance_type),
            string_parameter("TrainingInstanceType", props.training_instance_type),
            # A number, or "none": the run's absolute threshold on its gate metric (Evaluate reads it).
            string_parameter("QualityThreshold", threshold_default(props.quality_threshold)),
            float_parameter("ChampionMargin", props.champion_margin),
            string_parameter(SOURCE_COMMIT, UNKNOWN_COMMIT) if props.tracking_server_arn else None,
        )
