"""The shell commands the delivery builds run, in one place (buildspecs and README agree).

Every command goes through the Makefile or the pinned `.venv`, so CodeBuild runs exactly what a
developer runs: ``make setup`` creates the venv and installs the CDK CLI from package-lock.json.
"""

from __future__ import annotations

from typing import Final

PY: Final = ".venv/bin/python"
#: The pinned CDK CLI, quiet and offline-safe (same flags as the Makefile's).
CDK: Final = (
    "CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true "
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 npx --no-install cdk"
)


def deploy(stack: str, env: str) -> str:
    """``cdk deploy`` of exactly one stack (its dependencies are deployed already)."""
    return f"{CDK} deploy {stack} --exclusively --require-approval never --no-notices -c env={env}"


def build_commands(*, env: str, prefix: str) -> list[str]:
    """Push → tests → the SageMaker pipeline updated to the pushed definition → one execution."""
    return [
        "make test",
        deploy(f"{prefix}-pipeline", env),
        f"{PY} -m release.start_pipeline --pipeline {prefix}-training "
        '--reason "push $CODEBUILD_RESOLVED_SOURCE_VERSION"',
    ]


def stage_commands(
    *,
    env: str,
    prefix: str,
    stage: str,
    model_file: str,
    samples: int,
    max_latency_ms: int,
    resolve_from: str | None,
) -> list[str]:
    """Resolve (or take over) the approved model, deploy the stage's endpoint stack, smoke-test it.

    ``resolve_from`` None asks the Model Registry for the newest approved version; otherwise the
    file at that path (the staging stage's answer) is copied, so prod ships what staging tested.
    """
    resolve = (
        f"{PY} -m release.promote --env {env} --stage {stage}"
        if resolve_from is None
        else f"mkdir -p $(dirname {model_file}) && cp {resolve_from} {model_file}"
    )
    return [
        resolve,
        deploy(f"{prefix}-endpoint-{stage}", env),
        f"{PY} -m release.smoke --endpoint {prefix}-{stage} --model-file {model_file} "
        f"--samples {samples} --max-latency-ms {max_latency_ms}",
    ]
