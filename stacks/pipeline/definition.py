"""The training pipeline definition: preprocess -> train -> evaluate -> gate -> register | fail.

:func:`build_definition` returns the JSON SageMaker Pipelines receives, built with the SageMaker
SDK v3 and no AWS call. Everything deployment-specific (role, bucket, key, code URI, image, VPC)
arrives as a string; the stack passes ``${Name}`` placeholders that its ``Fn::Sub`` resolves at
deploy time, and tests pass literals. See ``steps.py`` for why job steps carry hand-written
requests rather than the SDK's job helpers.

Shape (what a runner of this definition needs):

* ``Preprocess`` (Processing: ``CreateProcessingJob``) -> ``Train`` (Training: ``CreateTrainingJob``)
  -> ``Evaluate`` (Processing, property file ``EvaluationReport``) -> ``QualityGate`` (Condition)
  -> ``Register`` (RegisterModel: ``CreateModelPackage``) | ``QualityGateFailed`` (Fail).
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
from typing import Any

from contracts.layout import INTERMEDIATES_PREFIX, RUNS_PREFIX
from ml_code import contract
from stacks.pipeline import requests as rq
from stacks.pipeline.gate import quality_gate
from stacks.pipeline.parameters import PipelineParameters
from stacks.pipeline.props import (
    EVALUATION_PROPERTY_FILE,
    TRAINING_HYPERPARAMETERS,
    DefinitionProps,
)
from stacks.pipeline.requests import step_command
from stacks.pipeline.sdk import (
    ExecutionVariables,
    Join,
    Pipeline,
    PropertyFile,
    StepTypeEnum,
    offline_session,
)
from stacks.pipeline.steps import RequestStep

__all__ = ["build_definition", "step_command"]


def _run_uri(bucket: str, *parts: str, prefix: str = RUNS_PREFIX) -> Join:
    """``s3://bucket/<prefix><execution id>/<parts...>`` (``pipeline-runs/`` unless told)."""
    return Join(
        on="/",
        values=["s3:/", bucket, prefix.rstrip("/"), ExecutionVariables.PIPELINE_EXECUTION_ID, *parts],
    )


#: Preprocess outputs only the training job reads: they expire with the intermediates.
_INTERMEDIATE_OUTPUTS = frozenset({contract.TRAIN_CHANNEL, contract.VALIDATION_CHANNEL})


def _preprocess_uri(bucket: str, output: str) -> Join:
    prefix = INTERMEDIATES_PREFIX if output in _INTERMEDIATE_OUTPUTS else RUNS_PREFIX
    return _run_uri(bucket, "preprocess", output, prefix=prefix)


def build_pipeline(props: DefinitionProps, *, name: str) -> Any:
    """Return the SDK ``Pipeline`` object (no AWS call; see :func:`build_definition`)."""
    params = PipelineParameters.create(props)
    preprocess, train, evaluate, report = _job_steps(props, params)
    gate = quality_gate(
        props=props, params=params, preprocess=preprocess, train=train, evaluate=evaluate, report=report
    )
    return Pipeline(
        name=name,
        parameters=list(vars(params).values()),
        steps=[preprocess, train, evaluate, gate],
        sagemaker_session=offline_session(),
        # No automatic experiment/trial per run: one less API family for the execution role,
        # and the SDK's default depends on the session's region (the stack has none at synth).
        pipeline_experiment_config=None,
    )


def _job_steps(
    props: DefinitionProps, p: PipelineParameters
) -> tuple[RequestStep, RequestStep, RequestStep, Any]:
    job, bucket = props.job, props.artifact_bucket
    code_file = props.code_uri.rsplit("/", 1)[-1]
    code_input = rq.s3_input("code", props.code_uri, contract.CODE_DIR)

    preprocess = RequestStep(
        name="Preprocess",
        step_type=StepTypeEnum.PROCESSING,
        description="Split, transform and baseline the raw data",
        arguments=rq.processing_request(
            job=job,
            instance_type=p.processing_type,
            entrypoint=step_command("preprocess.py", code_file),
            arguments=["--target-column", p.target, "--problem-type", p.problem],
            inputs=[code_input, rq.s3_input("data", p.input_uri, contract.RAW_DATA_DIR)],
            outputs=[
                rq.s3_output(out, _preprocess_uri(bucket, out), local)
                for out, local in contract.PREPROCESS_OUTPUTS.items()
            ],
            network_isolation=True,
        ),
    )
    split_uri = preprocess.properties.ProcessingOutputConfig.Outputs
    train = RequestStep(
        name="Train",
        step_type=StepTypeEnum.TRAINING,
        description="Train XGBoost (train.py from the source bundle, under the platform's own entrypoint)",
        arguments=rq.training_request(
            job=job,
            instance_type=p.training_type,
            # Network isolation: the container cannot fetch code from S3, so the bundle arrives
            # as the code channel and the entrypoint unpacks it there. Not the image's script
            # mode: its toolkit would overwrite train.py's failure file (see requests.py).
            entrypoint=step_command("train.py", code_file, code_dir=rq.TRAINING_CODE_DIR),
            hyperparameters=TRAINING_HYPERPARAMETERS,
            channels={
                contract.TRAIN_CHANNEL: split_uri[contract.TRAIN_CHANNEL].S3Output.S3Uri,
                contract.VALIDATION_CHANNEL: split_uri[contract.VALIDATION_CHANNEL].S3Output.S3Uri,
                rq.CODE_CHANNEL: props.code_uri,
            },
            output_uri=_run_uri(bucket, "train"),
            use_spot=props.use_spot,
            checkpoint_uri=_run_uri(bucket, "train", "checkpoints", prefix=INTERMEDIATES_PREFIX),
        ),
    )
    report = PropertyFile(
        name=EVALUATION_PROPERTY_FILE, output_name=contract.EVALUATION_OUTPUT, path=contract.EVALUATION_FILE
    )
    evaluate = RequestStep(
        name="Evaluate",
        step_type=StepTypeEnum.PROCESSING,
        description="Score the model on the test split and look up the approved champion",
        property_files=[report],
        arguments=rq.processing_request(
            job=job,
            instance_type=p.processing_type,
            entrypoint=step_command("evaluate.py", code_file),
            arguments=[
                "--problem-type",
                p.problem,
                "--model-package-group",
                props.model_package_group_name,
                "--champion-margin",
                p.margin,
            ],
            inputs=[
                code_input,
                rq.s3_input(
                    "model", train.properties.ModelArtifacts.S3ModelArtifacts, contract.MODEL_INPUT_DIR
                ),
                rq.s3_input("test", split_uri["test"].S3Output.S3Uri, contract.TEST_INPUT_DIR),
            ],
            outputs=[
                rq.s3_output(
                    contract.EVALUATION_OUTPUT, _run_uri(bucket, "evaluate"), contract.EVALUATION_DIR
                )
            ],
            # The champion lookup calls the SageMaker API and reads the champion's report from
            # S3 (through the VPC endpoints), which network isolation would forbid.
            network_isolation=False,
            environment={"AWS_DEFAULT_REGION": props.region},
        ),
    )
    return preprocess, train, evaluate, report


def build_definition(props: DefinitionProps, *, name: str) -> str:
    """Return the pipeline definition JSON (compact, keys sorted: byte-stable across builds).

    Raises:
        ValueError: the SDK rejects the pipeline (e.g. a property that its shape does not have).
    """
    definition = json.loads(build_pipeline(props, name=name).definition())
    return json.dumps(definition, sort_keys=True, separators=(",", ":"))
