"""The Track steps: every execution logged as one MLflow run, after the gate, in both branches.

Jobs run network-isolated (except Evaluate) and the XGBoost image has no ``mlflow`` package, so
logging is a Processing step of its own on the same image and bundle (``track.py``,
``ml_code.steps.track``), with network isolation off: it reaches the tracking server through the
VPC's experiments endpoint and the artifact store through the S3 gateway endpoint (private
subnets, no NAT). It reads Evaluate's report, the model tarball (the training curve) and
Preprocess's baseline, and logs them through MLflow's REST API.

* ``Track`` (gate passed) runs before ``Register`` and writes ``contract.TRACKING_FILE``, the
  property file ``TrackingRun`` Register's customer metadata reads the run from, and its
  ``ModelCard`` the card (:func:`model_card`): a version is never registered without its evidence
  (a tracking error fails the step, so Register never runs).
* ``TrackRejected`` (gate failed) logs the run as FAILED with the gate's message; the Fail step
  waits for it (``DependsOn``), so a rejected candidate is a run too.

The arguments are the script's CLI (issue 15 design): ``--tracking-server-arn``,
``--execution-arn`` (experiment = pipeline name, run name = execution id), ``--gate``,
``--gate-message``, ``--param KEY=VALUE`` and ``--tag KEY=VALUE``, repeatable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from contracts.layout import RUNS_PREFIX
from ml_code import contract
from ml_code.steps.model_card import CARD_STATUS
from stacks.pipeline import requests as rq
from stacks.pipeline.expressions import Json, PropertyFile, execution_id, get, join
from stacks.pipeline.parameters import PipelineParameters
from stacks.pipeline.props import TRACKING_PROPERTY_FILE, TRAINING_HYPERPARAMETERS, DefinitionProps
from stacks.pipeline.steps import PROCESSING, JobStep

TRACK: Final = "Track"
TRACK_REJECTED: Final = "TrackRejected"
#: The run's tag listing the execution's steps (comma-separated, in the order they run).
STEPS_TAG: Final = "mlops.steps"
#: The script the Track steps run from the bundle (its shim in ``source_bundle.SHIMS``).
SCRIPT: Final = "track.py"


@dataclass(frozen=True, kw_only=True)
class TrackSources:
    """What the Track steps read, and the names of the steps that ran before the gate."""

    preprocess: JobStep
    train: JobStep
    evaluate: JobStep
    #: Every step before the gate, in order (Profile when there is one, Preprocess, Train, Evaluate).
    earlier: tuple[str, ...]


def tracking_params(
    props: DefinitionProps, p: PipelineParameters, sources: TrackSources
) -> list[tuple[str, Any]]:
    """The run's params, name -> value (text or a pipeline expression), in the order passed."""
    return [
        *((f"hp.{name}", value) for name, value in TRAINING_HYPERPARAMETERS.items()),
        ("input_data_uri", p.input_uri.expr),
        ("target_column", p.target.expr),
        ("problem_type", p.problem.expr),
        ("processing_instance_type", p.processing_type.expr),
        ("training_instance_type", p.training_type.expr),
        ("processing_instances", str(props.processing_instances)),
        ("training_instances", str(props.training_instances)),
        # The bundle's key is its content hash (a CDK file asset): the code's identity.
        ("code_uri", props.code_uri),
        ("threshold", p.threshold.expr),
        ("champion_margin", p.margin.expr),
        # The version's model.tar.gz: the model card's artifact.
        ("model_data_uri", sources.train.model_artifacts()),
        # The commit the build started the execution for ("unknown" when started otherwise).
        *([("git_commit", p.source_commit.expr)] if p.source_commit is not None else []),
    ]


def _pair(flag: str, key: str, value: Any) -> list[Any]:
    """``flag KEY=VALUE``: text stays text, an expression is joined at run time."""
    return [flag, f"{key}={value}" if isinstance(value, str) else join([f"{key}=", value], on="")]


def track_arguments(
    *,
    server_arn: str,
    gate: str,
    params: Sequence[tuple[str, Any]],
    tags: Mapping[str, str],
    gate_message: Json | None = None,
) -> list[Any]:
    """The Track script's ``ContainerArguments``."""
    arguments: list[Any] = [
        "--tracking-server-arn", server_arn,
        "--execution-arn", get("Execution.PipelineExecutionArn"),
        "--gate", gate,
    ]  # fmt: skip
    if gate_message is not None:
        arguments += ["--gate-message", gate_message]
    for key, value in params:
        arguments += _pair("--param", key, value)
    for key, value in tags.items():
        arguments += _pair("--tag", key, value)
    return arguments


def track_step(
    props: DefinitionProps,
    p: PipelineParameters,
    sources: TrackSources,
    *,
    passed: bool,
    then: Sequence[str],
    gate_message: Json | None = None,
) -> JobStep:
    """``Track`` (``passed``) or ``TrackRejected``; ``then``: the branch's steps after it.

    Raises:
        ValueError: the definition has no tracking server (``props.tracking_server_arn`` is None).
    """
    if props.tracking_server_arn is None:
        raise ValueError("no tracking server: a Track step needs DefinitionProps.tracking_server_arn")
    name = TRACK if passed else TRACK_REJECTED
    code_file = props.code_uri.rsplit("/", 1)[-1]
    steps = ",".join([*sources.earlier, "QualityGate", name, *then])
    report = PropertyFile(
        name=TRACKING_PROPERTY_FILE, output_name=contract.TRACKING_OUTPUT, path=contract.TRACKING_FILE
    )
    output_uri = join(
        ["s3:/", props.artifact_bucket, RUNS_PREFIX.rstrip("/"), execution_id(), "track"], on="/"
    )
    return JobStep(
        name=name,
        type=PROCESSING,
        description="Log this execution as an MLflow run"
        + ("" if passed else " marked FAILED: the gate rejected the candidate"),
        property_files=(report,) if passed else (),
        arguments=rq.processing_request(
            job=props.job,
            instance_type=p.processing_type.expr,
            entrypoint=rq.step_command(SCRIPT, code_file),
            arguments=track_arguments(
                server_arn=props.tracking_server_arn,
                gate=contract.GATE_PASSED if passed else contract.GATE_REJECTED,
                gate_message=gate_message,
                params=tracking_params(props, p, sources),
                tags={STEPS_TAG: steps},
            ),
            inputs=[
                rq.s3_input("code", props.code_uri, contract.CODE_DIR),
                rq.s3_input(
                    "evaluation",
                    sources.evaluate.output_uri(contract.EVALUATION_OUTPUT),
                    contract.TRACK_EVALUATION_DIR,
                ),
                rq.s3_input("model", sources.train.model_artifacts(), contract.TRACK_MODEL_DIR),
                rq.s3_input(
                    "baseline", sources.preprocess.output_uri("baseline"), contract.TRACK_BASELINE_DIR
                ),
            ],
            outputs=[rq.s3_output(contract.TRACKING_OUTPUT, output_uri, contract.TRACKING_DIR)],
            # The tracking server (experiments endpoint) and the artifact store (S3) are network calls.
            network_isolation=False,
            environment={"AWS_DEFAULT_REGION": props.region},
        ),
    )


def run_metadata(track: JobStep, server_arn: str) -> dict[str, Any]:
    """Register's customer metadata naming the run ``track`` logged, and where it lives."""
    [report] = track.property_files
    return {
        contract.MLFLOW_RUN_ID_METADATA_KEY: track.json_get(report, contract.TRACKING_RUN_ID_PATH),
        contract.MLFLOW_EXPERIMENT_ID_METADATA_KEY: track.json_get(
            report, contract.TRACKING_EXPERIMENT_ID_PATH
        ),
        contract.MLFLOW_SERVER_METADATA_KEY: server_arn,
    }


def model_card(track: JobStep) -> dict[str, Any]:
    """Register's ``ModelCard``: the card ``track`` wrote from the run (``tracking.json``'s
    ``model_card``), pending a reviewer like the version itself."""
    [report] = track.property_files
    return {
        "ModelCardContent": track.json_get(report, contract.TRACKING_MODEL_CARD_PATH),
        "ModelCardStatus": CARD_STATUS,
    }
