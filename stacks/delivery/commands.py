"""The shell commands the delivery builds run, in one place (buildspecs, Makefile and README agree).

Every command goes through the Makefile or the pinned ``.venv``, so CodeBuild runs exactly what a
developer runs: ``make setup`` creates the venv and installs the CDK CLI from package-lock.json.
The same three steps ship a model to a stage from the deploy pipeline and by hand (``make
promote``): write the stage's approved-model file (``release.resolve``), ``cdk deploy`` that
stage's endpoint stack alone, smoke-test the endpoint. With a tracking server, the deploy build then
marks the version's MLflow run as shipped there (``release.track_release``).
"""

from __future__ import annotations

from typing import Final

from contracts.config import StageConfig
from contracts.names import (
    deploy_pipeline_name,
    endpoint_name,
    endpoint_stack_name,
    stack_name,
    training_pipeline_name,
)
from stacks.pipeline.parameters import SOURCE_COMMIT

PY: Final = ".venv/bin/python"
#: The pinned CDK CLI, quiet (same variables as the Makefile's ``CDK``).
CDK: Final = (
    "CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true "
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 npx --no-install cdk"
)
SETUP: Final = "make setup"
TEST: Final = "make test"
#: Exported by the staging build (CodePipeline variable ``#{Staging.MODEL_VERSION}``).
VERSION_VARIABLE: Final = "MODEL_VERSION"
#: The deploy pipeline passes its execution ID to the staging build under this name.
EXECUTION_VARIABLE: Final = "PIPELINE_EXECUTION_ID"
#: A deploy build's project variable holding the tracking server's ARN (a deploy-time value).
TRACKING_SERVER_VARIABLE: Final = "MLOPS_TRACKING_SERVER_ARN"


def deploy(stack: str, env: str) -> str:
    """``cdk deploy`` of exactly one stack (the stacks it references are deployed already)."""
    return f"{CDK} deploy {stack} --exclusively --require-approval never --no-notices -c env={env}"


def start_training(prefix: str, *, tracked: bool = False) -> str:
    """Start one execution of the training pipeline, reason = the pushed commit; does not wait.

    ``tracked`` (the environment has a tracking server): the commit is also the execution's
    ``SourceCommit`` parameter, which the Track step logs as the run's ``git_commit``.
    """
    commit = f" --parameter {SOURCE_COMMIT}=$CODEBUILD_RESOLVED_SOURCE_VERSION" if tracked else ""
    return (
        f"{PY} -m release.start_pipeline --pipeline {training_pipeline_name(prefix)} "
        f'--reason "push $CODEBUILD_RESOLVED_SOURCE_VERSION"{commit}'
    )


def build_commands(*, env: str, prefix: str, tracked: bool = False) -> list[str]:
    """Push → tests → the SageMaker pipeline updated to the pushed definition → one execution."""
    return [TEST, deploy(stack_name(prefix, "pipeline"), env), start_training(prefix, tracked=tracked)]


def resolve(*, group: str, out: str, version: str | None = None) -> str:
    """Write ``out`` for the newest Approved version of ``group``, or exactly ``version``.

    ``release.resolve`` exits 2 (failing the build) when nothing is deployable, e.g. the version
    was rejected or deleted while the deploy waited at the manual gate.
    """
    exact = "" if version is None else f" --version {version}"
    return f"{PY} -m release.resolve --group {group}{exact} --out {out}"


def read_version(model_file: str) -> str:
    """``export MODEL_VERSION=<version in model_file>`` (validated by the file's own reader)."""
    reader = (
        "import sys; from pathlib import Path; from contracts.approved_model import ApprovedModel; "
        "print(ApprovedModel.read(Path(sys.argv[1])).version)"
    )
    return f"export {VERSION_VARIABLE}=$({PY} -c '{reader}' {model_file})"


def release_tag(stage: StageConfig) -> str:
    """Tag the resolved version's model file and baseline as shipped to ``stage`` (a stage in another
    account reads only tagged objects: :mod:`release.release_tag`)."""
    return f"{PY} -m release.release_tag --stage {stage.name} --model-file {stage.model_file}"


def smoke(*, prefix: str, stage: StageConfig, role_arn: str | None = None) -> str:
    """The smoke test of the stage's endpoint with its configured sample count and latency bound.

    ``role_arn``: the stage account's smoke role, for a stage in another account (the endpoint is
    invoked with its credentials; samples and registry are read with the build's own).
    """
    endpoint = endpoint_name(prefix, stage.name)
    through = "" if role_arn is None else f" --role-arn {role_arn}"
    return (
        f"{PY} -m release.smoke --endpoint {endpoint} --model-file {stage.model_file} "
        f"--samples {stage.smoke_test.samples} --max-latency-ms {stage.smoke_test.max_latency_ms}{through}"
    )


def track_release(stage: StageConfig, *, approval_only: bool = False) -> str:
    """Mark the shipped version's MLflow run as shipped to ``stage`` and live there, on the server
    the project variable names (:mod:`release.track_release`; a version registered before tracking
    is skipped, said why)."""
    return (
        f"{PY} -m release.track_release --stage {stage.name} --model-file {stage.model_file} "
        f'--tracking-server-arn "${TRACKING_SERVER_VARIABLE}"' + (" --approval-only" if approval_only else "")
    )


def ship_commands(
    *,
    env: str,
    prefix: str,
    group: str,
    stage: StageConfig,
    version: str | None,
    smoke_role: str | None = None,
    tracked: bool = False,
) -> list[str]:
    """Resolve → deploy the stage's endpoint stack → smoke-test it (→ ``tracked``: mark the version's
    MLflow run shipped, :func:`track_release`); a failing command fails the build.

    ``version`` None ships the newest Approved version (and exports its number as
    ``MODEL_VERSION``); otherwise exactly that one (a number for a roll back or promotion by
    hand, or ``$MODEL_VERSION`` as read from the staging build's file). ``smoke_role``: see
    :func:`smoke` (``cdk deploy`` finds a stage account's bootstrap roles by itself); it is set
    exactly for a stage in another account, whose version is tagged as shipped before the deploy
    (:func:`release_tag`).
    """
    return [
        resolve(group=group, out=stage.model_file, version=version),
        *([read_version(stage.model_file)] if version is None else []),
        *([release_tag(stage)] if smoke_role is not None else []),
        deploy(endpoint_stack_name(prefix, stage.name), env),
        smoke(prefix=prefix, stage=stage, role_arn=smoke_role),
        *([track_release(stage)] if tracked else []),
    ]


def stop_if_live(*, prefix: str, stages: list[str]) -> str:
    """Stop this deploy (abandoning the build) when every stage already serves ``$MODEL_VERSION``.

    An edit of an already-deployed Approved version starts the deploy too; there is nothing to
    ship then, and no gate should wait. ``release.live`` exits non-zero otherwise (or on an
    error), and the build goes on to ship.
    """
    stacks = " ".join(f"--stack {endpoint_stack_name(prefix, stage)}" for stage in stages)
    reason = f"version ${VERSION_VARIABLE} is already live on {' and '.join(stages)}"
    return (
        f"if {PY} -m release.live --version ${VERSION_VARIABLE} {stacks} ; then "
        f"aws codepipeline stop-pipeline-execution --pipeline-name {deploy_pipeline_name(prefix)} "
        f'--pipeline-execution-id "${EXECUTION_VARIABLE}" --abandon --reason "{reason}" ; exit 0 ; fi'
    )


def staging_commands(
    *,
    env: str,
    prefix: str,
    group: str,
    stage: StageConfig,
    stages: list[str] | None = None,
    smoke_role: str | None = None,
    tracked: bool = False,
) -> list[str]:
    """The newest Approved version to staging, smoke-tested, unless it is live on all ``stages``."""
    shipped = ship_commands(
        env=env, prefix=prefix, group=group, stage=stage, version=None, smoke_role=smoke_role, tracked=tracked
    )
    resolve_and_export, deploy_and_smoke = shipped[:2], shipped[2:]
    return [
        *resolve_and_export,
        # the approval shows on the run now, whatever the deploy below does
        *([track_release(stage, approval_only=True)] if tracked else []),
        stop_if_live(prefix=prefix, stages=stages or [stage.name]),
        *deploy_and_smoke,
    ]


def prod_commands(
    *,
    env: str,
    prefix: str,
    group: str,
    stage: StageConfig,
    staged_file: str,
    smoke_role: str | None = None,
    tracked: bool = False,
) -> list[str]:
    """Exactly the version staging tested (``staged_file``), re-checked as still Approved, to prod."""
    version = f"${VERSION_VARIABLE}"
    return [
        read_version(staged_file),
        *ship_commands(
            env=env,
            prefix=prefix,
            group=group,
            stage=stage,
            version=version,
            smoke_role=smoke_role,
            tracked=tracked,
        ),
    ]
