"""Post-deploy smoke test: the model's own test samples, response schema and p95 latency checked.

``python -m release.smoke --model-file FILE (--endpoint NAME [--role-arn ARN] | --url http://host:port)
[--samples N] [--max-latency-ms MS] [--problem-type T] [--region R]``, or
``python -m release.smoke --env ENV --stage STAGE [...]``: that stage's endpoint, model file,
sample count and latency bound from ``cdk.json`` (what ``make promote`` runs after the deploy),
and, for a stage in another account, its smoke role.

``--role-arn``: invoke the endpoint with that role's credentials (the stage account's smoke role,
assumed with session name ``smoke-<endpoint>``, see :mod:`release.stage_role`); the samples and
the registry are still read with the caller's own.

The samples are raw feature records from the model version's test split
(``ApprovedModel.smoke_samples_uri``). Each is sent alone as ``application/json``
(``{"instances": [record]}``); a response must be 200 and hold exactly one prediction of the
shape ``ml_code.serving.inference.output_fn`` writes for the version's problem type (``--problem-type``,
else the one recorded with the version in the Model Registry; see :mod:`contracts.prediction_schema`). Exit 0
when every check passes, 1 naming each failed check and sample, 2 when the test cannot run (no
samples, model unreachable, version not readable).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from contracts.approved_model import ApprovedModel, ApprovedModelError
from contracts.config import ConfigError
from contracts.prediction_schema import SchemaChecker, response_problem
from ml_code.contract import CONTENT_TYPE_JSON, PROBLEM_TYPES
from release.invokers import (
    AsyncWait,
    InvokeError,
    Invoker,
    async_input_prefix,
    async_invoker,
    endpoint_invoker,
    url_invoker,
)  # fmt: skip
from release.promote import PROJECT_ROOT, release_target
from release.registry import ResolveError, recorded_problem_type
from release.smoke_report import Failure, SmokeReport, p95
from release.stage_role import AssumeRoleError, partition_of, role_session, session_name

if TYPE_CHECKING:  # the boto3 stubs are a development requirement only
    from mypy_boto3_s3 import S3Client


class SmokeSetupError(Exception):
    """The smoke test cannot run (no/invalid samples, unreachable model); the message says why."""


def load_samples(s3: S3Client, uri: str, limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` records of the samples file at ``uri``.

    Raises:
        SmokeSetupError: unreadable, not JSON, not a non-empty list of objects.
    """
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        data = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except (BotoCoreError, ClientError, ValueError) as exc:
        raise SmokeSetupError(f"cannot read smoke samples {uri}: {exc}") from None
    if not isinstance(data, list) or not data or not all(isinstance(r, dict) for r in data):
        raise SmokeSetupError(f"smoke samples {uri}: expected a non-empty JSON list of objects")
    return data[:limit]


def run_smoke(
    invoker: Invoker,
    samples: list[dict[str, Any]],
    *,
    max_latency_ms: float,
    target: str = "model",
    problem_type: str | None = None,
) -> SmokeReport:
    """Send each sample alone, check every response and the p95 latency; return the report.

    ``problem_type`` is the model's (binary, multiclass, regression); None when not recorded, and
    then every prediction must at least have the shape of the first valid one.

    Raises:
        SmokeSetupError: no samples, an unknown problem type, or the model cannot be reached.
    """
    if not samples:
        raise SmokeSetupError("no smoke samples to send")
    if problem_type is not None and problem_type not in PROBLEM_TYPES:
        raise SmokeSetupError(f"problem type {problem_type!r} is not one of {', '.join(PROBLEM_TYPES)}")
    checker = SchemaChecker(problem_type)
    failures: list[Failure] = []
    latencies: list[float] = []
    for index, record in enumerate(samples):
        body = json.dumps({"instances": [record]}).encode("utf-8")
        try:
            result = invoker(body, CONTENT_TYPE_JSON)
        except InvokeError as exc:
            raise SmokeSetupError(f"cannot reach {target}: {exc}") from None
        latencies.append(result.latency_ms)
        problem = response_problem(result.status, result.body, checker, index)
        if problem is not None:
            check, _, detail = problem.partition(": ")
            failures.append(Failure(check, index, detail))
    percentile = p95(latencies)
    if percentile > max_latency_ms:
        slowest = max(range(len(latencies)), key=latencies.__getitem__)
        detail = (
            f"p95 {percentile:.1f} ms > bound {max_latency_ms:g} ms "
            f"(slowest: sample {slowest}, {latencies[slowest]:.1f} ms)"
        )
        failures.append(Failure("latency", None, detail))
    return SmokeReport(
        target, len(samples), tuple(latencies), percentile, max_latency_ms, tuple(failures), problem_type
    )


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
        return value

    return parse


def parse_args(argv: list[str] | None, root: Path = PROJECT_ROOT) -> argparse.Namespace:
    """The arguments; ``--env``/``--stage`` fill in the rest from ``root``'s cdk.json.

    Raises:
        ConfigError: ``--stage`` names no stage of ``--env`` (or the config is invalid).
    """
    parser = argparse.ArgumentParser(
        prog="python -m release.smoke", description=__doc__.split("\n")[0], allow_abbrev=False
    )
    parser.add_argument("--model-file", type=Path, help="approved-model JSON file")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--endpoint", help="SageMaker endpoint name")
    where.add_argument("--url", help="model server URL (POST <url>/invocations)")
    where.add_argument("--stage", help="the endpoint stage of --env in cdk.json (staging, prod)")
    parser.add_argument("--env", help="environment in cdk.json (with --stage)")
    parser.add_argument("--use-case", help="an additional use case of --env (with --stage)")
    parser.add_argument("--samples", type=_positive(int), help="send at most this many samples (default 20)")
    parser.add_argument("--max-latency-ms", type=_positive(float), help="bound on p95 latency (default 2000)")
    parser.add_argument(
        "--problem-type", choices=PROBLEM_TYPES, help="default: the one recorded with the model version"
    )
    parser.add_argument("--region", default=None, help="AWS region (default: the SDK's)")
    parser.add_argument(
        "--async-wait-s", type=_positive(float), default=900.0,
        help="an async endpoint: how long to wait for each result (default 900: a start from zero)",
    )  # fmt: skip
    parser.add_argument(
        "--role-arn",
        help="invoke the endpoint as this role (a stage account's smoke role; with --stage: from config)",
    )
    args = parser.parse_args(argv)
    if (args.stage is None) != (args.env is None):
        parser.error("--env and --stage go together")
    if args.use_case is not None and args.stage is None:
        parser.error("--use-case goes with --env and --stage")
    if args.role_arn is not None and args.url is not None:
        parser.error("--role-arn goes with --endpoint or --stage (it invokes a SageMaker endpoint)")
    if args.stage is not None:
        target = release_target(root, args.env, args.stage, args.use_case)
        args.endpoint, args.model_file = target.endpoint, args.model_file or target.model_file
        args.samples = args.samples or target.smoke_samples
        args.max_latency_ms = args.max_latency_ms or float(target.smoke_max_latency_ms)
        if args.role_arn is None and target.stage_account is not None:
            args.region = args.region or target.region
            args.role_arn = target.smoke_role_arn(partition_of(args.region))
    elif args.model_file is None:
        parser.error("--model-file is required with --endpoint or --url")
    args.samples, args.max_latency_ms = args.samples or 20, args.max_latency_ms or 2000.0
    return args


def _invoker(args: argparse.Namespace) -> tuple[Invoker, str]:
    """How to reach the model, and how the report names it. An endpoint whose config has an
    AsyncInferenceConfig is invoked through InvokeEndpointAsync (:func:`release.invokers.async_invoker`).

    Raises:
        AssumeRoleError: ``--role-arn`` cannot be assumed.
    """
    if not args.endpoint:
        return url_invoker(args.url), args.url
    if args.role_arn is None:
        stage = boto3.session.Session(region_name=args.region)
    else:
        sts = boto3.client("sts", region_name=args.region)
        stage = role_session(sts, args.role_arn, name=session_name(args.endpoint), region=args.region)
    runtime = stage.client("sagemaker-runtime")
    input_prefix = async_input_prefix(stage.client("sagemaker"), args.endpoint)
    if input_prefix is None:
        return endpoint_invoker(runtime, args.endpoint), f"endpoint {args.endpoint}"
    wait = AsyncWait(timeout=args.async_wait_s)
    invoker = async_invoker(runtime, stage.client("s3"), args.endpoint, input_prefix, wait)
    return invoker, f"async endpoint {args.endpoint}"


def main(argv: list[str] | None = None, root: Path = PROJECT_ROOT) -> int:
    """CLI entry point: 0 passed, 1 a check failed, 2 the test could not run."""
    try:
        args = parse_args(argv, root)
        if not args.model_file.is_file():
            raise SmokeSetupError(f"{args.model_file}: no approved-model file (release.resolve writes it)")
        model = ApprovedModel.read(args.model_file)
        if model.smoke_samples_uri is None:
            raise SmokeSetupError(f"{args.model_file}: version {model.version} has no smoke samples URI")
        samples = load_samples(
            boto3.client("s3", region_name=args.region), model.smoke_samples_uri, args.samples
        )
        problem_type = args.problem_type or recorded_problem_type(
            boto3.client("sagemaker", region_name=args.region), model.model_package_arn
        )
        invoker, target = _invoker(args)
        # An async result's time is queueing and polling too: bounded by the wait, not the real-time bound.
        bound = args.async_wait_s * 1000 if target.startswith("async") else args.max_latency_ms
        report = run_smoke(invoker, samples, max_latency_ms=bound, target=target, problem_type=problem_type)
    except (OSError, ApprovedModelError, AssumeRoleError, ConfigError, ResolveError, SmokeSetupError) as exc:
        print(f"release.smoke: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
