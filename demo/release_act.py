"""`make demo`, after registration: approve → resolve → deploy → serve → smoke test.

The same tools the deploy pipeline runs, against the AWS stand-in:

1. A person approves the new version (here: the demo, through the Model Registry API).
2. ``release.resolve`` asks the registry for the newest approved version and writes each stage's
   approved-model file, exactly as the deploy build does; the app is synthesized again, so the
   endpoint stacks now exist, built from those files.
3. ``emulator.deploy`` applies each endpoint stack's model, endpoint config and endpoint to the
   stand-in (moto lacks UpdateEndpoint; a small fake checked against botocore's model stands in).
4. The model artifact the registry points at is served by the local model server (the endpoint's
   container contract), with data capture on like the prod endpoint config, and
   ``release.smoke`` runs the same smoke test the pipeline runs against the real endpoint.

A stage in another account (``ENV=multi``) is deployed, read and smoke-tested there: see
:mod:`demo.accounts`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.approved_model import ApprovedModel
from contracts.config import AppConfig
from contracts.config.release import StageConfig
from contracts.names import endpoint_stack_name
from demo.accounts import SmokeIdentity, caller, model_reader, smoke_identity, tag_shipped
from demo.release_tracking import mark_shipped
from emulator.cfn import Assembly
from emulator.deploy import DeployResult, deploy_endpoint_stack
from emulator.local_aws import LocalAws
from ml_code.serving.serve import serve_in_thread
from release.invokers import url_invoker
from release.registry import recorded_problem_type
from release.resolve import resolve_to_file
from release.smoke import load_samples, run_smoke
from release.smoke_report import SmokeReport


@dataclass(frozen=True)
class Release:
    """One stage's deployment: what was resolved, what the stand-in got, how the smoke test went."""

    stage: str
    approved: ApprovedModel
    deployed: DeployResult
    smoke: SmokeReport | None = None
    #: For a stage in another account: who read the model artifact, and the smoke test's identity.
    model_reader: str | None = None
    smoke_identity: SmokeIdentity | None = None
    #: For a stage in another account: the deploy build's release tag, as printed.
    tagged: str | None = None


def approve(aws: LocalAws, package_arn: str) -> None:
    """Approve ``package_arn`` as a reviewer would.

    moto's UpdateModelPackage drops CustomerMetadataProperties it is not sent (AWS keeps them),
    so they are sent back unchanged; the smoke samples' location lives there.
    """
    sagemaker = aws.client("sagemaker")
    metadata = sagemaker.describe_model_package(ModelPackageName=package_arn).get(
        "CustomerMetadataProperties", {}
    )
    sagemaker.update_model_package(
        ModelPackageArn=package_arn, ModelApprovalStatus="Approved", CustomerMetadataProperties=metadata
    )


def resolve_stages(
    aws: LocalAws, group: str, stages: Iterable[StageConfig], root: Path
) -> dict[str, ApprovedModel]:
    """Write every stage's approved-model file under ``root`` from the newest approved version of
    ``group`` (what the deploy build does)."""
    return {
        stage.name: resolve_to_file(aws.client("sagemaker"), group, root / stage.model_file)
        for stage in stages
    }


def deploy_stage(
    assembly: Assembly, aws: LocalAws, prefix: str, stage: str, approved: ApprovedModel
) -> Release:
    """Apply ``<prefix>-endpoint-<stage>`` to the stand-in."""
    return Release(stage, approved, deploy_endpoint_stack(assembly, endpoint_stack_name(prefix, stage), aws))


@contextmanager
def serve_version(
    aws: LocalAws, approved: ApprovedModel, work: Path, *, endpoint_name: str, capture_dir: Path | None
) -> Iterator[str]:
    """Serve the version's ``model.tar.gz`` (fetched from the stand-in) locally; yields its URL."""
    artifact = work / "served" / f"v{approved.version}" / "model.tar.gz"
    artifact.parent.mkdir(parents=True, exist_ok=True)
    artifact.write_bytes(aws.read_object(approved.model_data_url))
    with serve_in_thread(artifact, capture_dir=capture_dir, endpoint_name=endpoint_name) as url:
        yield url


def smoke(
    aws: LocalAws, approved: ApprovedModel, url: str, *, samples: int, max_latency_ms: int
) -> SmokeReport:
    """The pipeline's smoke test, against the local server at ``url``."""
    if approved.smoke_samples_uri is None:
        raise SystemExit(f"version {approved.version} has no smoke samples (SmokeSamplesUri)")
    payloads = load_samples(aws.client("s3"), approved.smoke_samples_uri, limit=samples)
    problem = recorded_problem_type(aws.client("sagemaker"), approved.model_package_arn)
    return run_smoke(
        url_invoker(url), payloads, max_latency_ms=max_latency_ms, target=url, problem_type=problem
    )


def release_lines(release: Release) -> list[str]:
    """What the demo prints for one stage."""
    lines = [
        f"  {release.stage}: version {release.approved.version} ({release.approved.model_package_arn})",
        f"    deployed to the stand-in: {'; '.join(release.deployed.actions)}",
    ]
    if release.deployed.dropped:
        lines.append(f"    not sent (no API parameter): {', '.join(release.deployed.dropped)}")
    if release.tagged is not None:
        lines.append(release.tagged)
    if release.model_reader is not None:
        lines += [
            f"    in account {release.deployed.account}, deployed as {release.deployed.role_arn}",
            f"    model.tar.gz read from the tooling bucket as {release.model_reader}",
        ]
    if release.smoke_identity is not None:
        lines += release.smoke_identity.lines()
    if release.smoke is not None:
        lines += [f"    {line}" for line in release.smoke.summary().splitlines()]
    return lines


def describe(aws: LocalAws, endpoint_name: str) -> dict[str, Any]:
    """The stand-in's view of an endpoint (name, config, status)."""
    found = aws.client("sagemaker").describe_endpoint(EndpointName=endpoint_name)
    plain: dict[str, Any] = json.loads(json.dumps(found, default=str))
    return plain


@dataclass(frozen=True)
class Shipped:
    """The release path's outcome: both stages, and the prod server still serving."""

    releases: list[Release]
    prod_url: str
    capture_dir: Path


@contextmanager
def ship(
    aws: LocalAws,
    config: AppConfig,
    assembly: Assembly,
    work: Path,
    approved: dict[str, ApprovedModel],
    *,
    prefix: str | None = None,
    mlflow_url: str | None = None,
) -> Iterator[Shipped]:
    """Deploy and smoke-test staging, pass the gate, then prod; yield while
    the prod model is served (with data capture) so traffic can be sent to it. With ``mlflow_url``
    (the local tracking server), each smoke-tested stage's version is marked on its MLflow run as
    the deploy build does (:mod:`demo.release_tracking`).

    ``assembly`` is synthesized with ``-c approvedModelRoot=<root>`` after :func:`resolve_stages`
    wrote ``approved`` there, so its endpoint stacks are built from those files. ``prefix``: the
    use case whose endpoint stacks these are (default the primary's, ``config.prefix``).
    """
    prefix = prefix or config.prefix
    if mlflow_url is not None:  # the staging build's first mark: the approval, before it deploys
        lines = mark_shipped(aws, assembly, approved["staging"], prefix=prefix, stage="staging",
                             url=mlflow_url, work=work, approval_only=True)  # fmt: skip
        print("\n".join(lines))
    with _deploy_and_smoke(
        aws, config, assembly, work, approved["staging"], stage="staging", capture_dir=None, prefix=prefix
    ) as (staged, _):
        print("\n".join(release_lines(staged)))
    if staged.smoke is None or not staged.smoke.passed:
        raise SystemExit("staging smoke test failed: the deploy pipeline stops here")
    _track(aws, assembly, staged, prefix=prefix, url=mlflow_url, work=work)
    print("  manual gate: approved (in the deploy pipeline a person approves this action)")
    capture = work / "capture"
    # This run's traffic only: an earlier `make demo` left its capture here, and the drift act
    # would count it again (each run added 420 records to the next one's check).
    shutil.rmtree(capture, ignore_errors=True)
    with _deploy_and_smoke(
        aws, config, assembly, work, approved["prod"], stage="prod", capture_dir=capture, prefix=prefix
    ) as (prod, url):
        print("\n".join(release_lines(prod)))
        if prod.smoke is None or not prod.smoke.passed:
            raise SystemExit("prod smoke test failed")
        _track(aws, assembly, prod, prefix=prefix, url=mlflow_url, work=work)
        yield Shipped(releases=[staged, prod], prod_url=url, capture_dir=capture)


def _track(
    aws: LocalAws, assembly: Assembly, shipped: Release, *, prefix: str, url: str | None, work: Path
) -> None:
    """``release.track_release`` for a smoke-tested stage, when the demo tracks runs (``url``)."""
    if url is not None:
        lines = mark_shipped(
            aws, assembly, shipped.approved, prefix=prefix, stage=shipped.stage, url=url, work=work
        )
        print("\n".join(lines))


@contextmanager
def _deploy_and_smoke(
    aws: LocalAws,
    config: AppConfig,
    assembly: Assembly,
    work: Path,
    approved: ApprovedModel,
    *,
    stage: str,
    capture_dir: Path | None,
    prefix: str,
) -> Iterator[tuple[Release, str]]:
    """Deploy ``stage``'s stack of the use case ``prefix`` to the stand-in, serve its version,
    smoke-test it; yield while served."""
    elsewhere = stage in config.env.cross_account_stages
    tagged = tag_shipped(aws, prefix, stage, approved) if elsewhere else None
    deployed = deploy_stage(assembly, aws, prefix, stage, approved).deployed
    reader = model_reader(aws, deployed)
    bounds = config.env.stage(stage).smoke_test
    with serve_version(
        reader, approved, work, endpoint_name=deployed.endpoint_name, capture_dir=capture_dir
    ) as url:
        identity = smoke_identity(aws, config.env.name, stage)
        report = smoke(aws, approved, url, samples=bounds.samples, max_latency_ms=bounds.max_latency_ms)
        read_as = None if reader is aws else caller(reader)
        yield Release(stage, approved, deployed, report, read_as, identity, tagged), url
