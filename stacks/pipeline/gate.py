"""The quality gate: Evaluate decides, the pipeline registers or fails with Evaluate's sentence.

Evaluate (:mod:`ml_code.steps.gate_decision`) judges the candidate against the naive baseline, any
absolute threshold (``QualityThreshold``, ``pipeline.gate.thresholds``) and the approved champion
scored on the same test rows, and writes ``quality_gate.passed`` (1/0) and ``quality_gate.message``
(one sentence: what was compared, the numbers, why). The condition only reads ``passed``; the Fail
step's message, the Track step's gate message and Register's ``GateMessage`` metadata are the sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from contracts.approved_model import PROBLEM_TYPE_METADATA_KEY, SMOKE_SAMPLES_METADATA_KEY
from ml_code import contract
from stacks.pipeline.expressions import Json, PropertyFile, greater_than_or_equal_to, join
from stacks.pipeline.link_run import LINK_RUN, link_run_step
from stacks.pipeline.parameters import PipelineParameters
from stacks.pipeline.props import DefinitionProps
from stacks.pipeline.register import model_package_request
from stacks.pipeline.steps import REGISTER_MODEL, ConditionStep, FailStep, JobStep, Step
from stacks.pipeline.track import TrackSources, model_card, run_metadata, track_step

REGISTER: Final = "Register"
FAILED: Final = "QualityGateFailed"


def quality_gate(
    *,
    props: DefinitionProps,
    params: PipelineParameters,
    preprocess: JobStep,
    train: JobStep,
    evaluate: JobStep,
    report: PropertyFile,
    earlier: tuple[str, ...] = (),
) -> ConditionStep:
    """Return the gate: register the model when Evaluate passed it, else fail with its sentence.

    With a tracking server (``props.tracking_server_arn``), each branch first logs the execution as
    an MLflow run (:mod:`stacks.pipeline.track`; ``earlier``: the steps before the gate, for its
    tag), and the registered version carries the run's model card and is linked from the run
    (:mod:`stacks.pipeline.link_run`): ``[Track, Register, LinkRun]`` and
    ``[TrackRejected, QualityGateFailed]``.
    """
    message = evaluate.json_get(report, contract.GATE_MESSAGE_PATH)
    sources = TrackSources(preprocess=preprocess, train=train, evaluate=evaluate, earlier=earlier)
    gate_metadata = {
        contract.GATE_MESSAGE_METADATA_KEY: evaluate.json_get(report, contract.GATE_METADATA_MESSAGE_PATH)
    }
    if_steps, else_steps = _branches(props, params, sources, message, gate_metadata)
    return ConditionStep(
        name="QualityGate",
        description="Register when Evaluate passed the candidate (quality_gate.passed = 1)",
        conditions=[greater_than_or_equal_to(evaluate.json_get(report, contract.GATE_PASSED_PATH), 1)],
        if_steps=if_steps,
        else_steps=else_steps,
    )


def _branches(
    props: DefinitionProps,
    p: PipelineParameters,
    sources: TrackSources,
    message: Json,
    gate: Mapping[str, Any],
) -> tuple[list[Step], list[Step]]:
    """The gate's if and else steps: register | fail, each after its Track step when tracking
    (and the run linked to the registered version after it)."""
    if props.tracking_server_arn is None:
        return [_register_step(props, p, sources, metadata=gate)], [
            FailStep(name=FAILED, error_message=message)
        ]
    track = track_step(props, p, sources, passed=True, then=(REGISTER, LINK_RUN))
    rejected = track_step(props, p, sources, passed=False, then=(FAILED,), gate_message=message)
    register = _register_step(
        props,
        p,
        sources,
        metadata={**gate, **run_metadata(track, props.tracking_server_arn)},
        card=model_card(track),
    )
    fail = FailStep(name=FAILED, error_message=message, depends_on=(rejected.name,))
    return [track, register, link_run_step(props, p, register)], [rejected, fail]


def _register_step(
    props: DefinitionProps,
    p: PipelineParameters,
    sources: TrackSources,
    *,
    metadata: Mapping[str, Any] | None = None,
    card: Mapping[str, Any] | None = None,
) -> JobStep:
    """Register the trained model for manual approval, with its evaluation, baseline and smoke samples
    (``metadata``: more customer metadata, the gate's sentence and, when tracked, the MLflow run; with
    ``card``, its model card)."""
    preprocess, train, evaluate = sources.preprocess, sources.train, sources.evaluate
    evaluation_uri = evaluate.output_uri(contract.EVALUATION_OUTPUT)
    baseline_uri = preprocess.output_uri("baseline")
    # The post-deploy smoke test (release.smoke) sends the version these raw test records.
    smoke_samples_uri = join([preprocess.output_uri("test"), contract.SMOKE_SAMPLES_FILE], on="/")
    return JobStep(
        name=REGISTER,
        type=REGISTER_MODEL,
        description="Register the model version for manual approval",
        arguments=model_package_request(
            group_name=props.model_package_group_name,
            image_uri=props.job.image_uri,
            region=props.region,
            model_data=train.model_artifacts(),
            evaluation_uri=join([evaluation_uri, contract.EVALUATION_FILE], on="/"),
            statistics_uri=join([baseline_uri, contract.BASELINE_STATISTICS_FILE], on="/"),
            constraints_uri=join([baseline_uri, contract.BASELINE_CONSTRAINTS_FILE], on="/"),
            endpoint_instance_type=props.endpoint_instance_type,
            metadata={
                PROBLEM_TYPE_METADATA_KEY: p.problem.expr,
                "TargetColumn": p.target.expr,
                SMOKE_SAMPLES_METADATA_KEY: smoke_samples_uri,
                **(metadata or {}),
            },
            model_card=card,
        ),
    )
