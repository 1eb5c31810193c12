"""Start a batch scoring run by hand (``make score ENV=dev INPUT=s3://bucket/data/batch/2024-06-01/``).

``python -m release.score --env dev --input s3://... [--use-case fraud] [--region R] [--cdk-json PATH]``

Reads the environment's typed config from ``cdk.json`` (the keys ``app.py`` reads), refuses when
its ``batch`` section is off (there is no ``<prefix>-batch-score`` to start) or ``--input`` is not
an ``s3://bucket/prefix`` URI, then starts the pipeline with ``InputDataUri`` = the input through
:func:`release.start_pipeline.start` (the parameter checked against the deployed definition), and
prints the execution ARN and a console link without waiting. The run scores every object under the
input prefix (headerless CSV, README "Batch scoring") with the group's newest Approved version and
writes ``s3://<artifact bucket>/batch-scores/<execution id>/``. Exit 2 with a one-line message on
any refusal.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

import boto3

from contracts.config import ConfigError, load_config
from contracts.names import batch_pipeline_name
from release.start_pipeline import StartError, start

if TYPE_CHECKING:  # the boto3 stubs are a development requirement only
    from mypy_boto3_sagemaker import SageMakerClient

CONTEXT_KEYS: Final = ("env", "project", "environments")
PROJECT_ROOT: Final = Path(__file__).resolve().parent.parent
#: ``s3://bucket/...``: a bucket name as S3 allows, then a key prefix.
_S3_URI: Final = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/\S*)?$")


def check_input(uri: str) -> str:
    """``uri`` when it is an ``s3://bucket[/prefix]`` URI.

    Raises:
        StartError: anything else (a local path, another scheme), saying what is expected.
    """
    if not _S3_URI.match(uri):
        raise StartError(
            f"INPUT {uri!r} is not an S3 URI: give the folder of headerless CSV files to score, "
            "e.g. s3://<artifact bucket>/data/batch/2024-06-01/ (upload local files with aws s3 cp first)"
        )
    return uri


def pipeline_for(cdk_json: Path, env: str, use_case: str | None) -> str:
    """``<prefix>-batch-score`` of ``env`` (the project's own use case, or ``use_case``).

    Raises:
        ConfigError: no/invalid cdk.json, an unknown environment or use case, or ``batch`` off.
    """
    try:
        context = json.loads(cdk_json.read_text(encoding="utf-8"))["context"]
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"{cdk_json}: cannot read its context ({exc})") from None
    config = load_config({k: context[k] for k in CONTEXT_KEYS if k in context}, env)
    if not config.env.batch.enabled:
        raise ConfigError(
            f"context key 'environments.{env}.batch.enabled' is off: {env} has no batch scoring pipeline "
            "(set it to true and deploy first)"
        )
    prefix = config.prefix
    if use_case is not None:
        case = next((c for c in config.use_cases if c.name == use_case), None)
        if case is None:
            known = ", ".join(c.name for c in config.use_cases)
            raise ConfigError(f"environment {env!r} has no use case {use_case!r} (its use cases: {known})")
        prefix = case.prefix
    return batch_pipeline_name(prefix)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m release.score", allow_abbrev=False, description=__doc__.split("\n")[0]
    )
    parser.add_argument("--env", required=True, help="environment of cdk.json (dev, staging, prod, ...)")
    parser.add_argument("--input", required=True, help="s3:// folder of headerless CSV files to score")
    parser.add_argument(
        "--use-case", default=None, help="an additional use case (default: the project's own)"
    )
    parser.add_argument("--region", default=None, help="AWS region (default: the SDK's)")
    parser.add_argument("--cdk-json", type=Path, default=PROJECT_ROOT / "cdk.json", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, sagemaker: SageMakerClient | None = None) -> int:
    """CLI entry point: 0 with the ARN and console link printed, 2 with a one-line message."""
    args = parse_args(argv)
    try:
        uri = check_input(args.input)
        pipeline = pipeline_for(args.cdk_json, args.env, args.use_case)
        client = sagemaker or boto3.client("sagemaker", region_name=args.region)
        started = start(client, pipeline, f"make score {uri}", {"InputDataUri": uri}, datetime.now(UTC))
    except (StartError, ConfigError) as exc:
        print(f"release.score: {exc}", file=sys.stderr)
        return 2
    print(f"started {pipeline} execution {started.display_name} on {uri}")
    print(started.arn)
    print(started.console_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
