"""Resolve the model version to deploy and write the approved-model file the endpoint stack reads.

``python -m release.resolve --group NAME --out FILE [--version N] [--region R]``

Without ``--version`` it picks the newest Approved version of the group; with it, exactly that
version, which must exist and be Approved (roll back / promote by hand). Exit 0 after writing
``FILE``; exit 2 with a one-line message when there is nothing deployable.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import boto3

from contracts.approved_model import ApprovedModel
from release.registry import ResolveError, approved_model, find_version

if TYPE_CHECKING:  # the boto3 stubs are a development requirement only
    from mypy_boto3_sagemaker import SageMakerClient


def resolve(sagemaker: SageMakerClient, group: str, version: int | None = None) -> ApprovedModel:
    """The approved-model answer for ``group`` (newest Approved, or exactly ``version``).

    Raises:
        ResolveError: nothing deployable (see :func:`release.registry.find_version`).
    """
    return approved_model(find_version(sagemaker, group, version))


def resolve_to_file(
    sagemaker: SageMakerClient, group: str, out: Path, version: int | None = None
) -> ApprovedModel:
    """:func:`resolve`, then write the answer to ``out`` (creating its folder); returns it.

    Raises:
        ResolveError: nothing deployable; ``out`` is left untouched.
    """
    model = resolve(sagemaker, group, version)
    model.write(out)
    return model


def version_number(text: str) -> int:
    """argparse type of a model version: a whole number >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a version number >= 1, got {text}")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m release.resolve",
        allow_abbrev=False,
        description="Write the approved-model file for the newest (or a named) Approved model version.",
    )
    parser.add_argument("--group", required=True, help="model package group name")
    parser.add_argument("--out", required=True, type=Path, help="approved-model JSON file to write")
    parser.add_argument(
        "--version", type=version_number, default=None, help="exact version (must be Approved)"
    )
    parser.add_argument("--region", default=None, help="AWS region (default: the SDK's)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, sagemaker: SageMakerClient | None = None) -> int:
    """CLI entry point: 0 when the file is written, 2 (one-line message on stderr) otherwise."""
    args = parse_args(argv)
    client = sagemaker or boto3.client("sagemaker", region_name=args.region)
    try:
        model = resolve_to_file(client, args.group, args.out, args.version)
    except ResolveError as exc:
        print(f"release.resolve: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out}: {model.model_package_group} version {model.version} ({model.model_package_arn})")
    print(f"  model data {model.model_data_url}; smoke samples {model.smoke_samples_uri or 'none recorded'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
