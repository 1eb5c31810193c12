"""Put a new version beside prod's as a shadow variant: write prod's approved-model file for it.

``python -m release.shadow --group G --stage-file F --endpoint E --version N [--region R]``

The Shadow build of the deploy pipeline runs this after staging passed: production stays the version
the prod endpoint serves *now* (read from the endpoint: endpoint -> endpoint config -> production
variant's model -> its container's ``ModelPackageName``), and the new, staging-tested version
``N`` becomes ``shadow`` of the file. ``cdk deploy`` of prod's endpoint stack then adds the shadow
variant; the production variant's model does not change.

Exit 0 with the file written; exit 0 with *no* file and a message when there is nothing to
shadow (no prod endpoint yet: a first release goes straight to the gate; or prod already serves
``N``); exit 2 with a one-line message when the version is not deployable or AWS refuses.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from contracts.approved_model import ApprovedModel, ApprovedModelError
from release.registry import ResolveError, approved_model, find_version
from release.resolve import version_number

if TYPE_CHECKING:  # the boto3 stubs are a development requirement only
    from mypy_boto3_sagemaker import SageMakerClient

#: Exit code when there is nothing to shadow (the build goes on to the gate): success.
NOTHING_TO_SHADOW: Final = 0


class NoProductionEndpointError(Exception):
    """The endpoint does not exist yet (the first release)."""


def _missing(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    return error.get("Code") == "ValidationException" and "Could not find" in str(error.get("Message", ""))


def serving_package(sagemaker: SageMakerClient, endpoint: str) -> str:
    """The model package ARN the endpoint's production variant serves.

    Raises:
        NoProductionEndpointError: no such endpoint.
        ResolveError: its model has no ``ModelPackageName`` (not deployed by our endpoint stack).
    """
    try:
        config_name = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    except ClientError as exc:
        if _missing(exc):
            raise NoProductionEndpointError(endpoint) from None
        raise
    config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    model_name = config["ProductionVariants"][0]["ModelName"]
    model = sagemaker.describe_model(ModelName=model_name)
    containers = [model["PrimaryContainer"]] if model.get("PrimaryContainer") else model.get("Containers", [])
    package = next((c.get("ModelPackageName") for c in containers if c.get("ModelPackageName")), None)
    if package is None:
        raise ResolveError(
            f"{endpoint}: model {model_name} names no ModelPackageName; cannot tell its version"
        )
    return str(package)


def shadowed(sagemaker: SageMakerClient, group: str, endpoint: str, version: int) -> ApprovedModel | None:
    """Prod's approved model with ``version`` as its shadow; None when prod already serves it.

    Raises:
        NoProductionEndpointError: no prod endpoint yet.
        ResolveError: ``version`` is not deployable, or prod's version cannot be described.
    """
    challenger = approved_model(find_version(sagemaker, group, version))
    package = serving_package(sagemaker, endpoint)
    try:
        production = approved_model(sagemaker.describe_model_package(ModelPackageName=package))
    except ClientError as exc:
        raise ResolveError(f"{package} (served by {endpoint}): cannot describe it: {exc}") from None
    if production.version == challenger.version:
        return None
    try:  # validated like the file the endpoint stack reads (same group, a different version)
        return ApprovedModel.from_mapping(
            {**production.to_mapping(), "shadow": challenger.to_mapping()}, endpoint
        )
    except ApprovedModelError as exc:
        raise ResolveError(str(exc)) from None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m release.shadow",
        allow_abbrev=False,
        description="Write prod's approved-model file: production as served now, the new version as shadow.",
    )
    parser.add_argument("--group", required=True, help="model package group name")
    parser.add_argument("--stage-file", required=True, type=Path, help="prod's approved-model file to write")
    parser.add_argument("--endpoint", required=True, help="the prod endpoint's name")
    parser.add_argument("--version", required=True, type=version_number, help="the new (shadow) version")
    parser.add_argument("--region", default=None, help="AWS region (default: the SDK's)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, sagemaker: SageMakerClient | None = None) -> int:
    """CLI entry point; see the module docstring for the exit codes."""
    args = parse_args(argv)
    try:
        client = sagemaker or boto3.client("sagemaker", region_name=args.region)
        model = shadowed(client, args.group, args.endpoint, args.version)
    except NoProductionEndpointError:
        print(f"{args.endpoint} does not exist yet: no shadow test for the first release")
        return NOTHING_TO_SHADOW
    except (ResolveError, ClientError, BotoCoreError) as exc:
        print(f"release.shadow: {exc}", file=sys.stderr)
        return 2
    if model is None:
        print(f"{args.endpoint} already serves version {args.version}: nothing to shadow")
        return NOTHING_TO_SHADOW
    model.write(args.stage_file)
    print(f"{args.stage_file}: production version {model.version}, shadow {args.version} on {args.endpoint}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
