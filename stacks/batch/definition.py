"""The batch scoring pipeline definition: ResolveModel (Lambda) → CreateModel (Model) → Score
(Transform) → ScoreReport (processing), behind a NoBaseline condition when the report checks drift.

ResolveModel picks the newest Approved version when the run starts; CreateModel makes a
network-isolated model of it in the VPC; Score runs a Transform job over ``InputDataUri``
(headerless CSV, MultiRecord within ``MaxPayloadInMB``, KMS on volumes and output) into
``batch-scores/<execution id>/predictions/``; ScoreReport (``ml_code.drift.score_report``, the
source bundle and image of training, network-isolated) writes ``manifest.json`` (and with the drift
check, ``drift/``) under ``batch-scores/<execution id>/``. A version without a drift baseline still
gets its report: NoBaseline's true branch runs it without the baseline input (an S3 input must name
objects), and the report says the drift check was skipped. (An ``Equals`` condition, not a ``Not``:
the SDK's releases disagree on how a ``Not`` is written.)

Written with the training pipeline's pieces (``stacks.pipeline.steps``/``expressions``/``requests``)
and this package's :mod:`.requests`; ``${Name}`` placeholders are the stack's ``Fn::Sub``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from contracts.layout import BATCH_PREDICTIONS_FOLDER, BATCH_SCORES_PREFIX
from ml_code import contract
from stacks.batch import requests as brq
from stacks.pipeline import requests as rq
from stacks.pipeline.expressions import Json, execution_id, join, string_parameter
from stacks.pipeline.steps import ConditionStep, JobStep, LambdaStep, pipeline_definition

#: The module ScoreReport runs (``python3 -m``, from the unpacked bundle).
SCORE_REPORT_MODULE: Final = "ml_code.drift.score_report"
RESOLVE_OUTPUTS: Final = ("model_package_arn", "version", "baseline_uri", "output_filter")


@dataclass(frozen=True, kw_only=True)
class BatchDefinitionProps:
    """Deployment inputs (strings may be ``${Name}`` placeholders) and the run's settings."""

    job: rq.JobSettings
    artifact_bucket: str
    code_uri: str
    resolve_function_arn: str
    model_package_group_name: str
    #: The use case's problem type (``ml_code.contract.PROBLEM_TYPES``): which columns a key keeps.
    problem_type: str
    #: ``InputDataUri``'s default.
    input_uri: str
    transform: brq.TransformSettings
    #: The Processing instance type of ScoreReport.
    report_instance_type: str
    key_column: str | None
    drift_check: bool
    #: The drift check's per-feature distance threshold (``monitoring.driftThreshold``).
    threshold: float


def _run_uri(bucket: str, *parts: str) -> Json:
    """``s3://<bucket>/batch-scores/<execution id>/<parts>/`` (a folder: trailing slash)."""
    return join(["s3:/", bucket, BATCH_SCORES_PREFIX.rstrip("/"), execution_id(), *parts, ""], on="/")


def build_batch_definition(props: BatchDefinitionProps) -> Json:
    """The pipeline definition as a dict (:func:`definition_json` gives the CfnPipeline body).

    Raises:
        ValueError: an unknown problem type, or two steps share a name.
    """
    if props.problem_type not in contract.PROBLEM_TYPES:
        raise ValueError(f"problem type must be one of {contract.PROBLEM_TYPES}, got {props.problem_type!r}")
    input_uri = string_parameter("InputDataUri", props.input_uri)
    resolve = LambdaStep(
        name="ResolveModel",
        description="Find the newest Approved version of the model package group",
        function_arn=props.resolve_function_arn,
        arguments={
            "group": props.model_package_group_name,
            "problem_type": props.problem_type,
            "key_column": str(props.key_column is not None).lower(),
        },
        outputs=dict.fromkeys(RESOLVE_OUTPUTS, "String"),
    )
    create = brq.RequestStep(
        name="CreateModel",
        type=brq.MODEL,
        description="A network-isolated model of the chosen version, in the VPC",
        arguments=brq.model_request(job=props.job, model_package_arn=resolve.output("model_package_arn")),
    )
    keyed = props.key_column is not None
    score = brq.RequestStep(
        name="Score",
        type=brq.TRANSFORM,
        description="Score the input's CSV lines with the model (MultiRecord, Line split)",
        arguments=brq.transform_request(
            job=props.job,
            settings=props.transform,
            model_name=create.model_name(),
            input_uri=input_uri.expr,
            output_uri=_run_uri(props.artifact_bucket, BATCH_PREDICTIONS_FOLDER),
            output_filter=resolve.output("output_filter") if keyed else None,
        ),
    )
    reports = _reports(props, resolve=resolve, score=score, input_uri=input_uri.expr)
    steps: list[Any] = [resolve, create, score, reports]
    names = [s.name for s in steps]
    if isinstance(reports, ConditionStep):
        names += [s.name for s in (*reports.if_steps, *reports.else_steps)]
    brq.names_are_unique(names)
    definition = pipeline_definition([input_uri], [])
    definition["Steps"] = [s.request() for s in steps]
    return definition


def _reports(
    props: BatchDefinitionProps, *, resolve: LambdaStep, score: brq.RequestStep, input_uri: Json
) -> Any:
    """ScoreReport; with the drift check, behind NoBaseline (without and with the baseline input)."""
    if not props.drift_check:
        return _report_step("ScoreReport", props, resolve=resolve, score=score, input_uri=input_uri)
    baseline = resolve.output("baseline_uri")
    return ConditionStep(
        name="NoBaseline",
        description="Report without the drift check when the version has no baseline",
        conditions=[brq.equals(baseline, "")],
        if_steps=[
            _report_step("ScoreReportNoBaseline", props, resolve=resolve, score=score, input_uri=input_uri)
        ],
        else_steps=[
            _report_step(
                "ScoreReport", props, resolve=resolve, score=score, input_uri=input_uri, baseline=baseline
            )
        ],
    )


def _report_step(
    name: str,
    props: BatchDefinitionProps,
    *,
    resolve: LambdaStep,
    score: brq.RequestStep,
    input_uri: Json,
    baseline: Json | None = None,
) -> JobStep:
    code_file = props.code_uri.rsplit("/", 1)[-1]
    predictions = score.output_path()
    arguments: list[Any] = [
        "--model-package-arn", resolve.output("model_package_arn"),
        "--version", resolve.output("version"),
        "--input-uri", input_uri,
        "--output-uri", predictions,
        "--execution-arn", brq.execution_arn(),
        "--problem-type", props.problem_type,
    ]  # fmt: skip
    if props.key_column is not None:
        arguments += ["--key-column", props.key_column]
    if props.drift_check:
        arguments.append("--drift-check")
    arguments += ["--threshold", str(props.threshold)]
    inputs = [
        rq.s3_input("code", props.code_uri, contract.CODE_DIR),
        rq.s3_input("predictions", predictions, contract.SCORE_PREDICTIONS_DIR),
        rq.s3_input("scored", input_uri, contract.SCORE_INPUT_DIR),
    ]
    if baseline is not None:
        inputs.append(rq.s3_input("baseline", baseline, contract.SCORE_BASELINE_DIR))
    request = rq.processing_request(
        job=props.job,
        instance_type=props.report_instance_type,
        entrypoint=brq.module_command(SCORE_REPORT_MODULE, code_file),
        arguments=arguments,
        inputs=inputs,
        outputs=[
            rq.s3_output(
                contract.SCORE_REPORT_OUTPUT, _run_uri(props.artifact_bucket), contract.SCORE_REPORT_DIR
            )
        ],
        network_isolation=True,
    )
    return JobStep(
        name=name,
        type="Processing",
        description="Write the run's manifest (model version, files, rows) and its drift check",
        arguments=request,
    )


def definition_json(props: BatchDefinitionProps) -> str:
    """The definition as deterministic JSON text."""
    return json.dumps(
        {k: v for k, v in build_batch_definition(props).items() if v is not None}, sort_keys=True
    )
