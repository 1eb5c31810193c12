"""The training pipeline definition: preprocess -> train -> evaluate -> gate -> register | fail.

:func:`build_definition` returns the JSON SageMaker Pipelines receives, written out with the
pieces in ``steps.py`` and ``expressions.py`` (no SageMaker SDK import, no AWS call; ``steps.py``
says why and how it is held to what the SDK would compile). Everything deployment-specific
(role, bucket, key, code URI, image, VPC) arrives as a string; the stack passes ``${Name}``
placeholders that its ``Fn::Sub`` resolves at deploy time, and tests pass literals.

Shape (what a runner of this definition needs):

* ``Preprocess`` (Processing: ``CreateProcessingJob``) -> ``Train`` (Training: ``CreateTrainingJob``)
  -> ``Evaluate`` (Processing, property file ``EvaluationReport``) -> ``QualityGate`` (Condition)
  -> ``Register`` (RegisterModel: ``CreateModelPackage``) | ``QualityGateFailed`` (Fail).
  With a tracking server, each branch first logs the execution as an MLflow run (Processing,
  :mod:`stacks.pipeline.track`): ``[Track -> Register -> LinkRun]`` | ``[TrackRejected ->
  QualityGateFailed]``; Register's version then carries the run's model card, and LinkRun tags the
  run with the version (:mod:`stacks.pipeline.link_run`).
* Processing steps get the bundle as input ``code`` (one S3 object, landing under its own name in
  ``contract.CODE_DIR``) and run ``/bin/sh -c 'cd CODE_DIR && tar -xzf <name> && exec python3
  <step>.py "$@"' sh <ContainerArguments...>``.
* Training runs network-isolated, so the bundle is the ``code`` channel, and the job's
  ``ContainerEntrypoint`` is the same command with ``cd /opt/ml/input/data/code`` (the image's
  script-mode toolkit is not used: it overwrites the script's failure file). ``train.py`` reads
  the hyperparameters from ``/opt/ml/input/config/hyperparameters.json``.
* Every output lands under ``s3://<bucket>/pipeline-runs/<execution id>/<step>/...``, except the
  train/validation splits and checkpoints, under ``pipeline-intermediates/<execution id>/...``
  (they expire; see ``contracts.layout``).
"""

from __future__ import annotations

import json

from contracts.layout import INTERMEDIATES_PREFIX, PREPROCESS_OUTPUT_FOLDER, RUNS_PREFIX, TRAIN_OUTPUT_FOLDER
from ml_code import contract
from stacks.pipeline import requests as rq
from stacks.pipeline.expressions import Json, PropertyFile, execution_id, join
from stacks.pipeline.gate import quality_gate
from stacks.pipeline.parameters import PipelineParameters
from stacks.pipeline.props import (
    EVALUATION_PROPERTY_FILE,
    TRAINING_HYPERPARAMETERS,
    DefinitionProps,
)
from stacks.pipeline.raw_data import data_arguments, profile_step, raw_data_input
from stacks.pipeline.requests import step_command
from stacks.pipeline.steps import PROCESSING, TRAINING, JobStep, pipeline_definition

__all__ = ["build_definition", "step_command"]


def _run_uri(bucket: str, *parts: str, prefix: str = RUNS_PREFIX) -> Json:
    """``s3://bucket/<prefix><execution id>/<parts...>`` (``pipeline-runs/`` unless told)."""
    return join(["s3:/", bucket, prefix.rstrip("/"), execution_id(), *parts], on="/")


#: Preprocess outputs only the training job reads: they expire with the intermediates.
_INTERMEDIATE_OUTPUTS = frozenset({contract.TRAIN_CHANNEL, contract.VALIDATION_CHANNEL})


def _preprocess_uri(bucket: str, output: str) -> Json:
    prefix = INTERMEDIATES_PREFIX if output in _INTERMEDIATE_OUTPUTS else RUNS_PREFIX
    return _run_uri(bucket, PREPROCESS_OUTPUT_FOLDER, output, prefix=prefix)


def definition_dict(props: DefinitionProps) -> Json:
    """Return the definition as a dict (:func:`build_definition` gives its JSON text).

    Raises:
        ValueError: a step refers to an output or property file another step does not declare.
    """
    params = PipelineParameters.create(props)
    profile, preprocess, train, evaluate, report = _job_steps(props, params)
    earlier = tuple(step.name for step in [*profile, preprocess, train, evaluate])
    gate = quality_gate(
        props=props,
        params=params,
        preprocess=preprocess,
        train=train,
        evaluate=evaluate,
        report=report,
        earlier=earlier,
    )
    # No experiment configuration: no automatic experiment/trial per run, so one less API
    # family for the execution role.
    return pipeline_definition(params.all(), [*profile, preprocess, train, evaluate, gate])


def _job_steps(
    props: DefinitionProps, p: PipelineParameters
) -> tuple[list[JobStep], JobStep, JobStep, JobStep, PropertyFile]:
    """Profile (more than one processing instance only), Preprocess, Train and Evaluate (which share
    the code bundle), and Evaluate's report."""
    code_file = props.code_uri.rsplit("/", 1)[-1]
    code_input = rq.s3_input("code", props.code_uri, contract.CODE_DIR)
    profile = None
    if props.processing_instances > 1:
        profile_uri = _run_uri(props.artifact_bucket, "profile", prefix=INTERMEDIATES_PREFIX)
        profile = profile_step(props, p, step_command("profile_data.py", code_file), code_input, profile_uri)
    preprocess = _preprocess_step(props, p, code_file, code_input, profile)
    train = _train_step(props, p, code_file, preprocess)
    evaluate, report = _evaluate_step(props, p, code_file, code_input, preprocess=preprocess, train=train)
    return [profile] if profile else [], preprocess, train, evaluate, report


def _preprocess_step(
    props: DefinitionProps, p: PipelineParameters, code_file: str, code_input: Json, profile: JobStep | None
) -> JobStep:
    """Split, transform and baseline the raw data (network-isolated), on every processing instance."""
    job, bucket = props.job, props.artifact_bucket
    inputs = [code_input, raw_data_input(props, p)]
    if profile is not None:
        inputs.append(
            rq.s3_input("profiles", profile.output_uri(contract.PROFILE_OUTPUT), contract.PROFILES_INPUT_DIR)
        )
    return JobStep(
        name="Preprocess",
        type=PROCESSING,
        description="Split, transform and baseline the raw data",
        arguments=rq.processing_request(
            job=job,
            instance_type=p.processing_type.expr,
            instance_count=props.processing_instances,
            entrypoint=step_command("preprocess.py", code_file),
            arguments=[*data_arguments(props, p), "--shards", str(props.training_instances)],
            inputs=inputs,
            outputs=[
                rq.s3_output(out, _preprocess_uri(bucket, out), local)
                for out, local in contract.PREPROCESS_OUTPUTS.items()
            ],
            network_isolation=True,
        ),
    )


def _train_step(
    props: DefinitionProps, p: PipelineParameters, code_file: str, preprocess: JobStep
) -> JobStep:
    """Train on preprocess's train and validation splits, the bundle as the code channel."""
    job, bucket = props.job, props.artifact_bucket
    distributed = props.training_instances > 1
    return JobStep(
        name="Train",
        type=TRAINING,
        description="Train XGBoost (train.py from the source bundle, under the platform's own entrypoint)",
        arguments=rq.training_request(
            job=job,
            instance_type=p.training_type.expr,
            instance_count=props.training_instances,
            # Network isolation: the container cannot fetch code from S3, so the bundle arrives
            # as the code channel and the entrypoint unpacks it there. Not the image's script
            # mode: its toolkit would overwrite train.py's failure file (see requests.py).
            entrypoint=step_command("train.py", code_file, code_dir=rq.TRAINING_CODE_DIR),
            arguments=["--chunk-rows", str(props.chunk_rows)]
            + (["--external-memory"] if props.external_memory else []),
            hyperparameters=TRAINING_HYPERPARAMETERS,
            channels={
                contract.TRAIN_CHANNEL: preprocess.output_uri(contract.TRAIN_CHANNEL),
                contract.VALIDATION_CHANNEL: preprocess.output_uri(contract.VALIDATION_CHANNEL),
                contract.TRANSFORMER_CHANNEL: preprocess.output_uri(contract.TRANSFORMER_CHANNEL),
                rq.CODE_CHANNEL: props.code_uri,
            },
            # Each instance trains on its share of the split files; every one needs the transformer.
            sharded=frozenset({contract.TRAIN_CHANNEL, contract.VALIDATION_CHANNEL} if distributed else ()),
            output_uri=_run_uri(bucket, TRAIN_OUTPUT_FOLDER),
            use_spot=props.use_spot,
            checkpoint_uri=_run_uri(bucket, TRAIN_OUTPUT_FOLDER, "checkpoints", prefix=INTERMEDIATES_PREFIX),
        ),
    )


def _evaluate_step(
    props: DefinitionProps,
    p: PipelineParameters,
    code_file: str,
    code_input: Json,
    *,
    preprocess: JobStep,
    train: JobStep,
) -> tuple[JobStep, PropertyFile]:
    """Score the model on the test split and look up the champion; returns the step and its report."""
    job, bucket = props.job, props.artifact_bucket
    report = PropertyFile(
        name=EVALUATION_PROPERTY_FILE, output_name=contract.EVALUATION_OUTPUT, path=contract.EVALUATION_FILE
    )
    evaluate = JobStep(
        name="Evaluate",
        type=PROCESSING,
        description="Score the model and the approved champion on the test split; decide the gate",
        property_files=(report,),
        arguments=rq.processing_request(
            job=job,
            instance_type=p.processing_type.expr,
            entrypoint=step_command("evaluate.py", code_file),
            arguments=[
                "--problem-type",
                p.problem.expr,
                "--model-package-group",
                props.model_package_group_name,
                "--champion-margin",
                p.margin.expr,
                "--threshold",
                p.threshold.expr,
                *props.gate.arguments(),
                # The bootstrap's seed is the training seed: the same data gives the same decision.
                "--seed",
                TRAINING_HYPERPARAMETERS["seed"],
                "--chunk-rows",
                str(props.chunk_rows),
            ],
            inputs=[
                code_input,
                rq.s3_input("model", train.model_artifacts(), contract.MODEL_INPUT_DIR),
                rq.s3_input("test", preprocess.output_uri("test"), contract.TEST_INPUT_DIR),
            ],
            outputs=[
                rq.s3_output(
                    contract.EVALUATION_OUTPUT, _run_uri(bucket, "evaluate"), contract.EVALUATION_DIR
                )
            ],
            # The champion lookup calls the SageMaker API and downloads the champion's model from
            # S3 (through the VPC endpoints), which network isolation would forbid.
            network_isolation=False,
            environment={"AWS_DEFAULT_REGION": props.region},
        ),
    )
    return evaluate, report


def build_definition(props: DefinitionProps, *, name: str) -> str:
    """Return the definition JSON of pipeline ``name`` (compact, keys sorted: byte-stable).

    The JSON does not contain ``name`` (nothing in it refers to the pipeline by name; SageMaker
    takes the name from ``CreatePipeline``): callers say which pipeline they build.

    Raises:
        ValueError: a step refers to an output or property file another step does not declare.
    """
    return json.dumps(definition_dict(props), sort_keys=True, separators=(",", ":"))
