"""The proof `make demo USE_CASE=<name>` ends with: two use cases side by side on one stand-in.

Everything here is read back from the stand-in, not taken from what the demo meant to do: per use
case, its registry group and versions (and the bucket each version's model is in), the endpoints
named for it (and the group of the version each one serves), and its artifact bucket's training
runs, drift-check reports and captured traffic (and whose executions and endpoints they are).
:func:`crossings` then says what, if anything, of one use case turned up in the other's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from contracts.layout import CAPTURE_PREFIX, CHECKS_PREFIX, RUNS_PREFIX
from contracts.names import drift_pipeline_name, endpoint_name
from emulator.local_aws import LocalAws, split_s3_uri
from emulator.provision import OfflinePipeline, input_data_uri


@dataclass(frozen=True)
class Owner:
    """A use case as the demo knows it: its name, the stem of its names, its training pipeline."""

    name: str
    prefix: str
    training: OfflinePipeline
    stages: tuple[str, ...]


@dataclass(frozen=True)
class Holdings:
    """What the stand-in holds for one use case."""

    owner: Owner
    bucket: str
    #: Version number, approval status, the bucket its model.tar.gz is in.
    versions: tuple[tuple[int, str, str], ...]
    #: Endpoint name, status, the group and version of the model package it serves.
    endpoints: tuple[tuple[str, str, str, int], ...]
    #: Execution IDs with a folder under pipeline-runs/ (drift-checks/) of its bucket.
    runs: frozenset[str]
    checks: frozenset[str]
    #: Endpoint names with a folder under data-capture/ of its bucket.
    captures: frozenset[str]
    #: Execution IDs of its training (drift-check) pipeline in the pipeline API.
    executions: frozenset[str]
    check_executions: frozenset[str]

    @property
    def group(self) -> str:
        return self.owner.training.group


def holdings(aws: LocalAws, owner: Owner) -> Holdings:
    """Read ``owner``'s group, endpoints, bucket and executions back from the stand-in."""
    sagemaker = aws.client("sagemaker")
    bucket = split_s3_uri(input_data_uri(owner.training))[0]
    group = owner.training.group
    versions = []
    for summary in sagemaker.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]:
        package = sagemaker.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
        model_url = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
        versions.append(
            (package["ModelPackageVersion"], package["ModelApprovalStatus"], split_s3_uri(model_url)[0])
        )
    listed = {e["EndpointName"] for e in sagemaker.list_endpoints(MaxResults=100)["Endpoints"]}
    endpoints = tuple(
        _endpoint(aws, name)
        for stage in owner.stages
        if (name := endpoint_name(owner.prefix, stage)) in listed
    )
    return Holdings(
        owner=owner,
        bucket=bucket,
        versions=tuple(sorted(versions)),
        endpoints=endpoints,
        runs=_folders(aws, bucket, RUNS_PREFIX),
        checks=_folders(aws, bucket, CHECKS_PREFIX),
        captures=_folders(aws, bucket, CAPTURE_PREFIX),
        executions=_executions(aws, owner.training.name),
        check_executions=_executions(aws, drift_pipeline_name(owner.prefix)),
    )


def _endpoint(aws: LocalAws, name: str) -> tuple[str, str, str, int]:
    """(name, status, the group and version of the model package its model serves)."""
    sagemaker = aws.client("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName=name)
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    containers = model.get("Containers") or [model.get("PrimaryContainer", {})]
    package = sagemaker.describe_model_package(ModelPackageName=containers[0]["ModelPackageName"])
    return name, endpoint["EndpointStatus"], package["ModelPackageGroupName"], package["ModelPackageVersion"]


def _folders(aws: LocalAws, bucket: str, prefix: str) -> frozenset[str]:
    """The folder names directly under ``prefix`` in ``bucket``."""
    pages = (
        aws.client("s3")
        .get_paginator("list_objects_v2")
        .paginate(Bucket=bucket, Prefix=prefix, Delimiter="/")
    )
    return frozenset(
        common["Prefix"][len(prefix) :].rstrip("/")
        for page in pages
        for common in page.get("CommonPrefixes", [])
    )


def _executions(aws: LocalAws, pipeline: str) -> frozenset[str]:
    """The IDs of ``pipeline``'s executions (none when the pipeline does not exist)."""
    sagemaker = aws.client("sagemaker")
    if pipeline not in {p["PipelineName"] for p in sagemaker.list_pipelines()["PipelineSummaries"]}:
        return frozenset()
    found = sagemaker.list_pipeline_executions(PipelineName=pipeline)["PipelineExecutionSummaries"]
    return frozenset(e["PipelineExecutionArn"].rsplit("/", 1)[-1] for e in found)


def crossings(held: Sequence[Holdings]) -> list[str]:
    """Everything of one use case found among another's (empty: they live side by side untouched)."""
    found = []
    for mine in held:
        label = f"{mine.owner.name}'s"
        found += [f"{label} v{v} has its model in {b}" for v, _, b in mine.versions if b != mine.bucket]
        found += [
            f"{label} endpoint {e} serves a version of {g}"
            for e, _, g, _ in mine.endpoints
            if g != mine.group
        ]
        strays = (mine.runs - mine.executions) | (mine.checks - mine.check_executions)
        found += [
            f"{label} bucket {mine.bucket} holds a run of another pipeline: {r}" for r in sorted(strays)
        ]
        captured = mine.captures - {name for name, *_ in mine.endpoints}
        found += [f"{label} bucket {mine.bucket} holds {e}'s captured traffic" for e in sorted(captured)]
        if not mine.runs:
            found.append(f"{label} bucket {mine.bucket} holds no training run at all")
    return found


def side_by_side_lines(held: Sequence[Holdings]) -> list[str]:
    """What the demo prints: each use case's holdings, then the verdict."""
    lines = ["", "Side by side on one stand-in (read back from it)"]
    for mine in held:
        lines.append(f"  use case {mine.owner.name} ({mine.owner.prefix})")
        for version, status, bucket in mine.versions:
            lines.append(f"    registry:  {mine.group} v{version} {status:<22} model in s3://{bucket}")
        for name, status, group, version in mine.endpoints:
            lines.append(f"    endpoint:  {name} {status}, serving {group} v{version}")
        lines += [
            f"    bucket:    {mine.bucket}: {len(mine.runs)} training run(s) under {RUNS_PREFIX} "
            f"({len(mine.executions)} execution(s) of {mine.owner.training.name}), "
            f"{len(mine.checks)} drift check(s) under {CHECKS_PREFIX}, traffic of "
            f"{', '.join(sorted(mine.captures)) or 'no endpoint'} under {CAPTURE_PREFIX}",
        ]
    problems = crossings(held)
    lines += [f"  CROSSED: {problem}" for problem in problems]
    names = " and ".join(mine.owner.name for mine in held)
    verdict = "FAILED: something crossed" if problems else f"{names} side by side, neither touching the other"
    lines.append(f"  result:            {verdict}")
    return lines
