"""The pipeline parameters: their names are the run API (each run may override any of them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.layout import DEFAULT_INPUT_PREFIX
from ml_code import contract
from stacks.pipeline.props import DefinitionProps
from stacks.pipeline.sdk import ParameterFloat, ParameterString


@dataclass(frozen=True)
class PipelineParameters:
    """One SDK parameter object per pipeline parameter; defaults come from config."""

    input_uri: Any
    target: Any
    problem: Any
    processing_type: Any
    training_type: Any
    threshold: Any
    margin: Any

    @classmethod
    def create(cls, props: DefinitionProps) -> PipelineParameters:
        return cls(
            ParameterString(
                "InputDataUri", default_value=f"s3://{props.artifact_bucket}/{DEFAULT_INPUT_PREFIX}"
            ),
            ParameterString("TargetColumn", default_value=contract.SAMPLE_TARGET_COLUMN),
            ParameterString(
                "ProblemType",
                default_value=contract.SAMPLE_PROBLEM_TYPE,
                enum_values=list(contract.PROBLEM_TYPES),
            ),
            ParameterString("ProcessingInstanceType", default_value=props.processing_instance_type),
            ParameterString("TrainingInstanceType", default_value=props.training_instance_type),
            ParameterFloat("QualityThreshold", default_value=props.quality_threshold),
            ParameterFloat("ChampionMargin", default_value=props.champion_margin),
        )
