"""`make demo`'s release act, with tracking: each stage's shipped version marked on its MLflow run.

The staging build marks the version's approval on its run before it deploys
(``release.track_release --approval-only``); after a stage's smoke test passes, the deploy build
runs ``release.track_release`` (the run gets ``mlops.approval`` and ``mlops.shipped.<stage>``, the
experiment ``mlops.live.<stage>``). Here the same command runs against the local MLflow server the
training runs logged to (``MLOPS_MLFLOW_URL``), with the tracking server ARN the synthesized deploy
build holds (its ``MLOPS_TRACKING_SERVER_ARN`` project variable), and the stand-in's registry.
"""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from contracts.approved_model import ApprovedModel
from contracts.names import deploy_project_name
from emulator.cfn import Assembly
from emulator.local_aws import LocalAws
from release import track_release
from stacks.delivery.commands import TRACKING_SERVER_VARIABLE

#: Where the release act writes each stage's model file for the command (as the build's resolve does).
FOLDER = "track-release"


def deploy_build_server(assembly: Assembly, prefix: str, stage: str) -> str | None:
    """The tracking server ARN ``stage``'s deploy build is given; None when it has none (no tracking)."""
    name = deploy_project_name(prefix, stage)
    for stack, logical_id, project in assembly.resources_of_type("AWS::CodeBuild::Project"):
        props = project.get("Properties", {})
        if assembly.resolve(stack, props.get("Name"), f"{stack}/{logical_id}.Name") != name:
            continue
        for variable in props.get("Environment", {}).get("EnvironmentVariables", []):
            if variable.get("Name") == TRACKING_SERVER_VARIABLE:
                return str(assembly.resolve(stack, variable["Value"], f"{stack}/{logical_id}.Environment"))
    return None


def mark_shipped(
    aws: LocalAws,
    assembly: Assembly,
    approved: ApprovedModel,
    *,
    prefix: str,
    stage: str,
    url: str,
    work: Path,
    approval_only: bool = False,
) -> list[str]:
    """Run ``release.track_release`` for ``approved`` shipped to ``stage`` (``approval_only``: the
    staging build's mark before it deploys); the lines it printed (none when the deploy build has
    no tracking server).

    Raises:
        SystemExit: the command failed (its message), as it would fail the deploy build.
    """
    server = deploy_build_server(assembly, prefix, stage)
    if server is None:
        return []
    model_file = work / FOLDER / f"{stage}.json"
    approved.write(model_file)
    out = io.StringIO()
    argv = ["--stage", stage, "--model-file", str(model_file), "--tracking-server-arn", server]
    argv += ["--approval-only"] if approval_only else []
    with redirect_stdout(out), redirect_stderr(out):
        code = track_release.main(argv, sagemaker=aws.client("sagemaker"), mlflow_url=url)
    if code != 0:
        raise SystemExit(f"release.track_release failed for {stage}: {out.getvalue().strip()}")
    return [f"    MLflow: {line}" for line in out.getvalue().splitlines()]
