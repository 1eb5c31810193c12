"""Promote (or roll back) an endpoint stage to an Approved model version, by hand or from the build.

``python -m release.promote --env ENV --stage STAGE [--version N] [--region R]``

Reads the environment's typed config from ``cdk.json`` (the same keys ``app.py`` reads), resolves
the newest Approved version (or exactly version N) of ``<prefix>-models`` into that stage's
approved-model file, and prints, on its last line, the stack to ``cdk deploy`` next
(``<prefix>-endpoint-<stage>``). Exit 2 with a one-line message when nothing is deployable or the
config is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3

from contracts.approved_model import ApprovedModel
from contracts.config import STAGES, ConfigError, load_config
from contracts.layout import released_tag
from contracts.names import (
    ResourceNameError,
    endpoint_name,
    endpoint_stack_name,
    model_package_group_name,
    stage_smoke_role_name,
)
from release.registry import ResolveError
from release.release_tag import untagged
from release.resolve import resolve

if TYPE_CHECKING:  # the boto3 stubs are a development requirement only
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient

#: The context keys app.py reads from cdk.json.
CONTEXT_KEYS = ("env", "project", "environments")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    """Where a promotion writes, what it deploys, and how that stage is smoke-tested."""

    group: str
    model_file: Path
    stack: str
    endpoint: str
    smoke_samples: int
    smoke_max_latency_ms: int
    #: The stage's account when it is not the tooling account: the endpoint is smoke-tested
    #: there, through the stage's smoke role. None: the caller's own account.
    stage_account: str | None = None
    #: The environment's region (None: the SDK's); the stage's too.
    region: str | None = None
    #: The stage's smoke role (in ``stage_account``).
    smoke_role_name: str = ""

    def smoke_role_arn(self, partition: str) -> str | None:
        """The ARN of the stage account's smoke role in ``partition``; None for a tooling-account stage."""
        if self.stage_account is None:
            return None
        return f"arn:{partition}:iam::{self.stage_account}:role/{self.smoke_role_name}"


def release_target(root: Path, env: str, stage: str, use_case: str | None = None) -> Target:
    """The model package group, the stage's approved-model file, endpoint stack and smoke test, of
    the project's own use case or (``use_case``) an additional one of the environment.

    Raises:
        ConfigError: no/invalid cdk.json, an unknown environment, stage or use case.
    """
    if stage not in STAGES:
        raise ConfigError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")
    try:
        context = json.loads((root / "cdk.json").read_text(encoding="utf-8"))["context"]
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"{root / 'cdk.json'}: cannot read its context ({exc})") from None
    # project_root=None: the stage's current model file is not read (it is about to be replaced).
    config = load_config({k: context[k] for k in CONTEXT_KEYS if k in context}, env)
    prefix, stage_config = config.prefix, config.env.stage(stage)
    if use_case is not None:
        case = next((c for c in config.use_cases if c.name == use_case and c.stages is not None), None)
        if case is None or case.stages is None:
            others = ", ".join(c.name for c in config.use_cases if not c.primary) or "none"
            raise ConfigError(
                f"environment {env!r} has no additional use case {use_case!r} (its use cases: {others}; "
                "the project's own needs no --use-case)"
            )
        prefix, stage_config = case.prefix, next(s for s in case.stages if s.name == stage)
    try:
        endpoint = endpoint_name(prefix, stage)
    except ResourceNameError as exc:
        raise ConfigError(str(exc)) from None
    return Target(
        group=model_package_group_name(prefix),
        model_file=root / stage_config.model_file,
        stack=endpoint_stack_name(prefix, stage),
        endpoint=endpoint,
        smoke_samples=stage_config.smoke_test.samples,
        smoke_max_latency_ms=stage_config.smoke_test.max_latency_ms,
        stage_account=config.env.cross_account_stages.get(stage),
        region=config.env.region,
        smoke_role_name=stage_smoke_role_name(prefix, stage),
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m release.promote",
        allow_abbrev=False,
        description="Write a stage's approved-model file; then `cdk deploy` the printed stack.",
    )
    parser.add_argument("--env", required=True, help="environment in cdk.json (e.g. dev)")
    parser.add_argument("--stage", required=True, help=f"endpoint stage: {', '.join(STAGES)}")
    parser.add_argument("--use-case", default=None, help="an additional use case of --env")
    parser.add_argument("--version", type=int, default=None, help="exact Approved version (roll back)")
    parser.add_argument("--region", default=None, help="AWS region (default: the SDK's)")
    return parser.parse_args(argv)


def _refuse_unshipped(s3: S3Client, model: ApprovedModel, stage: str) -> None:
    """A stage in another account reads only versions its deploy build tagged as shipped there.

    Raises:
        ResolveError: ``model`` was never shipped to ``stage`` (names the untagged objects).
    """
    missing = untagged(s3, model, stage)
    if missing:
        raise ResolveError(
            f"version {model.version} was never shipped to {stage} by its deploy build, so {stage}'s "
            f"account cannot read it ({', '.join(missing)} lack {released_tag(stage)}): ship it through "
            "the deploy pipeline; by hand, a stage in another account moves only among versions "
            "shipped there"
        )


def main(
    argv: list[str] | None = None,
    sagemaker: SageMakerClient | None = None,
    root: Path = PROJECT_ROOT,
    s3: S3Client | None = None,
) -> int:
    """CLI entry point: 0 with the stack name on the last line, 2 with a one-line message."""
    args = parse_args(argv)
    try:
        target = release_target(root, args.env, args.stage, args.use_case)
        client = sagemaker or boto3.client("sagemaker", region_name=args.region)
        model = resolve(client, target.group, args.version)
        if target.stage_account is not None:
            _refuse_unshipped(s3 or boto3.client("s3", region_name=args.region), model, args.stage)
    except (ConfigError, ResolveError) as exc:
        print(f"release.promote: {exc}", file=sys.stderr)
        return 2
    model.write(target.model_file)
    print(f"{args.stage}: {model.model_package_group} version {model.version} -> {target.model_file}")
    print(target.stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
