"""Start a SageMaker pipeline execution with the reason recorded, and do not wait for it.

``python -m release.start_pipeline --pipeline NAME --reason TEXT [--parameter K=V ...] [--region R]``

The build runs this after updating the pipeline: the reason (e.g. the pushed commit) becomes the
execution's description and, slugged, its display name; parameters are checked against the
pipeline's definition so a typo fails here rather than as a silently ignored value. Prints the
execution ARN and a console link; exit 2 with a one-line message on any refusal.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

import boto3
from botocore.exceptions import ClientError

if TYPE_CHECKING:  # the boto3 stubs are a development requirement only
    from mypy_boto3_sagemaker import SageMakerClient

#: StartPipelineExecution's PipelineExecutionDisplayName: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}.
DISPLAY_NAME_MAX: Final = 82
DESCRIPTION_MAX: Final = 3072


class StartError(Exception):
    """The execution was not started; the message (one line) says why."""


@dataclass(frozen=True)
class Started:
    """A started execution: its ARN, display name and a console link."""

    arn: str
    display_name: str
    console_url: str


def display_name(reason: str, now: datetime) -> str:
    """A valid display name: the reason's letters and digits, hyphen-joined, plus a UTC stamp."""
    stamp = now.astimezone(UTC).strftime("%Y%m%d%H%M%S")
    words = re.findall(r"[A-Za-z0-9]+", reason)
    slug = "-".join(words)[: DISPLAY_NAME_MAX - len(stamp) - 1].strip("-")
    return f"{slug}-{stamp}" if slug else f"run-{stamp}"


def parse_parameters(items: list[str]) -> dict[str, str]:
    """``["K=V", ...]`` -> ``{K: V}``; raises StartError for an item without ``=`` or a repeated key."""
    parsed: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise StartError(f"--parameter {item!r}: expected NAME=VALUE")
        if key in parsed:
            raise StartError(f"--parameter {key} is given twice")
        parsed[key] = value
    return parsed


def console_url(arn: str, region: str) -> str:
    """SageMaker console link to the execution (pipeline and execution id from its ARN).

    Best effort: the console's URL fragments are not an API and SageMaker Studio now hosts
    pipeline views, so the link may land on the pipeline list; the ARN printed with it is exact.
    The pipeline name is taken from the ARN, where SageMaker lower-cases it (unverified offline
    whether the console route accepts a mixed-case name in that form).
    """
    match = re.search(r":pipeline/([^/]+)/execution/([^/]+)$", arn)
    if match is None:
        return f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}#/pipelines"
    pipeline, execution = match.groups()
    return (
        f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
        f"#/pipelines/{pipeline}/executions/{execution}"
    )


def start(
    sagemaker: SageMakerClient, pipeline: str, reason: str, parameters: dict[str, str], now: datetime
) -> Started:
    """Start ``pipeline`` with ``parameters``, the reason recorded; returns without waiting.

    Raises:
        StartError: empty reason, no such pipeline, a parameter the pipeline does not declare.
    """
    if not reason.strip():
        raise StartError("--reason must say why this run starts")
    try:
        described = sagemaker.describe_pipeline(PipelineName=pipeline)
    except ClientError as exc:
        raise StartError(f"pipeline {pipeline!r}: {exc.response.get('Error', {}).get('Message')}") from None
    declared = {p["Name"] for p in json.loads(described["PipelineDefinition"]).get("Parameters", [])}
    unknown = sorted(set(parameters) - declared)
    if unknown:
        raise StartError(
            f"pipeline {pipeline!r} has no parameter(s) {', '.join(unknown)}; it declares {sorted(declared)}"
        )
    name = display_name(reason, now)
    # botocore fills ClientRequestToken (an idempotency token); the stubs call it required.
    arn: str = sagemaker.start_pipeline_execution(  # type: ignore[call-arg]
        PipelineName=pipeline,
        PipelineExecutionDisplayName=name,
        PipelineExecutionDescription=reason[:DESCRIPTION_MAX],
        PipelineParameters=[{"Name": k, "Value": v} for k, v in sorted(parameters.items())],
    )["PipelineExecutionArn"]
    return Started(arn, name, console_url(arn, sagemaker.meta.region_name))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m release.start_pipeline", allow_abbrev=False, description=__doc__.split("\n")[0]
    )
    parser.add_argument("--pipeline", required=True, help="pipeline name (or ARN)")
    parser.add_argument("--reason", required=True, help="why it runs (recorded as the description)")
    parser.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--region", default=None, help="AWS region (default: the SDK's)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, sagemaker: SageMakerClient | None = None) -> int:
    """CLI entry point: 0 with the ARN and console link printed, 2 with a one-line message."""
    args = parse_args(argv)
    client = sagemaker or boto3.client("sagemaker", region_name=args.region)
    try:
        started = start(
            client, args.pipeline, args.reason, parse_parameters(args.parameter), datetime.now(UTC)
        )
    except StartError as exc:
        print(f"release.start_pipeline: {exc}", file=sys.stderr)
        return 2
    print(f"started {args.pipeline} execution {started.display_name}")
    print(started.arn)
    print(started.console_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
