"""Is a model version already live on every stage? Then the deploy has nothing to ship.

``python -m release.live --version N --stack STACK [--stack STACK ...] [--region R]``

The approval rule starts the deploy pipeline on every state-change event of an Approved version,
including edits of a version that is already deployed (EventBridge's event carries no previous
status). The staging build asks this tool whether every endpoint stack's ``ModelVersion`` output
already is the version it resolved; if so, it stops its own pipeline execution instead of
re-deploying, re-testing and leaving a manual gate waiting.

Exit 0: every stack serves version N. Exit 3: some stack serves another version or does not exist
yet (ship it). Exit 2: bad arguments or an AWS error (the build then ships: failing open is safe,
a redeploy of the same version changes nothing).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from release.resolve import version_number

if TYPE_CHECKING:  # the boto3 stubs are a development requirement only
    from mypy_boto3_cloudformation import CloudFormationClient

#: The endpoint stacks' output naming the version they serve (stacks/endpoint_stack.py).
VERSION_OUTPUT: Final = "ModelVersion"
NOT_LIVE: Final = 3


def serving_version(cloudformation: CloudFormationClient, stack: str) -> str | None:
    """The stack's ``ModelVersion`` output, or None when the stack (or the output) does not exist."""
    try:
        found = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationError" and "does not exist" in str(exc):
            return None
        raise
    outputs = {o["OutputKey"]: o.get("OutputValue") for o in (found[0].get("Outputs") or [])} if found else {}
    value = outputs.get(VERSION_OUTPUT)
    return None if value is None else str(value)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m release.live",
        allow_abbrev=False,
        description="Exit 0 when every endpoint stack already serves the version (nothing to ship).",
    )
    parser.add_argument("--version", type=version_number, required=True, help="the resolved model version")
    parser.add_argument("--stack", action="append", required=True, help="an endpoint stack (repeat)")
    parser.add_argument("--region", default=None, help="AWS region (default: the SDK's)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, cloudformation: CloudFormationClient | None = None) -> int:
    """CLI entry point; see the module docstring for the exit codes."""
    args = parse_args(argv)
    try:
        client = cloudformation or boto3.client("cloudformation", region_name=args.region)
        serving = {stack: serving_version(client, stack) for stack in args.stack}
    except (ClientError, BotoCoreError) as exc:
        print(f"release.live: {exc}", file=sys.stderr)
        return 2
    described = ", ".join(f"{stack} serves {version or 'nothing'}" for stack, version in serving.items())
    if all(version == str(args.version) for version in serving.values()):
        print(f"version {args.version} is already live: {described}")
        return 0
    print(f"version {args.version} is not live everywhere: {described}")
    return NOT_LIVE


if __name__ == "__main__":
    sys.exit(main())
