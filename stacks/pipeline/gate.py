"""The quality gate: an absolute threshold plus champion/challenger, then register or fail.

The candidate must reach ``QualityThreshold`` and must not be worse than the currently approved
model version by more than ``ChampionMargin``. The evaluate step computes that floor (champion
value minus margin, or -1e9 with no approved champion, so the threshold alone decides) and
writes it into evaluation.json; the gate only compares, reading the contract's JSON paths.
"""

from __future__ import annotations

from typing import Any

from contracts.approved_model import PROBLEM_TYPE_METADATA_KEY, SMOKE_SAMPLES_METADATA_KEY
from ml_code import contract
from stacks.pipeline.parameters import PipelineParameters
from stacks.pipeline.props import DefinitionProps
from stacks.pipeline.register import model_package_request
from stacks.pipeline.sdk import (
    ConditionGreaterThanOrEqualTo,
    ConditionStep,
    FailStep,
    Join,
    JsonGet,
    StepTypeEnum,
)
from stacks.pipeline.steps import RequestStep


def quality_gate(
    *,
    props: DefinitionProps,
    params: PipelineParameters,
    preprocess: RequestStep,
    train: RequestStep,
    evaluate: RequestStep,
    report: Any,
) -> ConditionStep:
    """Return the gate: register the model if it clears both checks, else fail with the values."""
    p = params

    def gate_value(path: str) -> JsonGet:
        return JsonGet(step_name=evaluate.name, property_file=report, json_path=path)

    evaluation_uri = evaluate.properties.ProcessingOutputConfig.Outputs[
        contract.EVALUATION_OUTPUT
    ].S3Output.S3Uri
    baseline_uri = preprocess.properties.ProcessingOutputConfig.Outputs["baseline"].S3Output.S3Uri
    test_uri = preprocess.properties.ProcessingOutputConfig.Outputs["test"].S3Output.S3Uri
    # The post-deploy smoke test (release.smoke) sends the version these raw test records.
    smoke_samples_uri = Join(on="/", values=[test_uri, contract.SMOKE_SAMPLES_FILE])
    register = RequestStep(
        name="Register",
        step_type=StepTypeEnum.REGISTER_MODEL,
        description="Register the model version for manual approval",
        arguments=model_package_request(
            group_name=props.model_package_group_name,
            image_uri=props.job.image_uri,
            region=props.region,
            model_data=train.properties.ModelArtifacts.S3ModelArtifacts,
            evaluation_uri=Join(on="/", values=[evaluation_uri, contract.EVALUATION_FILE]),
            statistics_uri=Join(on="/", values=[baseline_uri, contract.BASELINE_STATISTICS_FILE]),
            constraints_uri=Join(on="/", values=[baseline_uri, contract.BASELINE_CONSTRAINTS_FILE]),
            endpoint_instance_type=props.endpoint_instance_type,
            metadata={
                PROBLEM_TYPE_METADATA_KEY: p.problem,
                "TargetColumn": p.target,
                SMOKE_SAMPLES_METADATA_KEY: smoke_samples_uri,
            },
        ),
    )
    value = gate_value(contract.GATE_METRIC_PATH)
    floor = gate_value(contract.GATE_CHAMPION_FLOOR_PATH)
    fail = FailStep(
        name="QualityGateFailed",
        error_message=Join(
            on="",
            values=[
                "Quality gate failed: ",
                gate_value(contract.GATE_METRIC_NAME_PATH),
                " = ",
                value,
                ". Threshold check needs >= ",
                p.threshold,
                "; champion check needs >= ",
                floor,
                " (approved champion minus margin ",
                p.margin,
                "; -1e9 when there is no champion).",
            ],
        ),
    )
    return ConditionStep(
        name="QualityGate",
        description="Candidate metric >= threshold and >= approved champion minus margin",
        conditions=[
            ConditionGreaterThanOrEqualTo(left=value, right=p.threshold),
            ConditionGreaterThanOrEqualTo(left=value, right=floor),
        ],
        if_steps=[register],
        else_steps=[fail],
    )
