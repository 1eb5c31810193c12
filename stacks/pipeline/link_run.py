"""The ``LinkRun`` step: after Register, the execution's MLflow run names the version it produced.

Register's customer metadata names the run (``MlflowRunId``, from the Track step); this step links
the other way: ``link_run.py`` (``ml_code.steps.link_run``) on the same image and bundle as Track,
network isolation off (the tracking server through the VPC's experiments endpoint), finds the run by
its execution tag and sets ``mlops.model_package_arn``, ``mlops.model_package_version`` and
``mlops.approval=PendingManualApproval``. A tag, not ``UpdateModelPackage``: the pipeline's role
can never approve a version. When a deploy build ships the version, ``release.track_release``
marks the run Approved and the experiment's ``mlops.live.<stage>``.
"""

from __future__ import annotations

from typing import Final

from ml_code import contract
from stacks.pipeline import requests as rq
from stacks.pipeline.expressions import get
from stacks.pipeline.parameters import PipelineParameters
from stacks.pipeline.props import DefinitionProps
from stacks.pipeline.steps import PROCESSING, REGISTER_MODEL, JobStep

LINK_RUN: Final = "LinkRun"
#: The script the step runs from the bundle (its shim in ``source_bundle.SHIMS``).
SCRIPT: Final = "link_run.py"


def link_run_step(props: DefinitionProps, p: PipelineParameters, register: JobStep) -> JobStep:
    """Tag the execution's run with the version ``register`` created.

    Raises:
        ValueError: no tracking server, or ``register`` is not a RegisterModel step.
    """
    if props.tracking_server_arn is None:
        raise ValueError("no tracking server: LinkRun needs DefinitionProps.tracking_server_arn")
    if register.type != REGISTER_MODEL:
        raise ValueError(f"step {register.name} is {register.type}, not RegisterModel: it makes no version")
    code_file = props.code_uri.rsplit("/", 1)[-1]
    return JobStep(
        name=LINK_RUN,
        type=PROCESSING,
        description="Tag this execution's MLflow run with the model version Register created",
        arguments=rq.processing_request(
            job=props.job,
            instance_type=p.processing_type.expr,
            entrypoint=rq.step_command(SCRIPT, code_file),
            arguments=[
                "--tracking-server-arn",
                props.tracking_server_arn,
                "--execution-arn",
                get("Execution.PipelineExecutionArn"),
                # a reference to Register's property: the step waits for it
                "--model-package-arn",
                get(f"Steps.{register.name}.ModelPackageArn"),
            ],
            inputs=[rq.s3_input("code", props.code_uri, contract.CODE_DIR)],
            outputs=[],
            # The tracking server is a network call (the experiments endpoint).
            network_isolation=False,
            environment={"AWS_DEFAULT_REGION": props.region},
        ),
    )
