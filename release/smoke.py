"""Post-deploy smoke test: the model's own test samples, response schema and p95 latency checked.

``python -m release.smoke --model-file FILE (--endpoint NAME | --url http://host:port)
[--samples N] [--max-latency-ms MS] [--region R]``

The samples are raw feature records from the model version's test split
(``ApprovedModel.smoke_samples_uri``). Each is sent alone as ``application/json``
(``{"instances": [record]}``); a response must be 200 and hold exactly one prediction of the
shape ``ml_code.inference.output_fn`` writes. Exit 0 when every check passes, 1 naming each
failed check and sample, 2 when the test cannot run (no samples, model unreachable).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ml_code.contract import CONTENT_TYPE_JSON
from release.contract import ApprovedModel, ApprovedModelError
from release.invokers import InvokeError, Invoker, InvokeResult, endpoint_invoker, url_invoker
from release.schema import prediction_problem


class SmokeSetupError(Exception):
    """The smoke test cannot run (no/invalid samples, unreachable model); the message says why."""


@dataclass(frozen=True)
class Failure:
    """One failed check: which (``status``, ``schema``, ``latency``), which sample, and why."""

    check: str
    sample: int | None
    detail: str

    def __str__(self) -> str:
        where = f"sample {self.sample}" if self.sample is not None else "all samples"
        return f"{self.check} check failed for {where}: {self.detail}"


@dataclass(frozen=True)
class SmokeReport:
    """What :func:`run_smoke` found."""

    target: str
    samples: int
    latencies_ms: tuple[float, ...]
    p95_ms: float
    max_latency_ms: float
    failures: tuple[Failure, ...]

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        """Readable lines for a build log: the verdict, then one line per failure."""
        verdict = "PASSED" if self.passed else f"FAILED ({len(self.failures)} failure(s))"
        lines = [
            f"smoke test of {self.target}: {self.samples} sample(s), p95 latency {self.p95_ms:.1f} ms "
            f"(bound {self.max_latency_ms:g} ms): {verdict}"
        ]
        return "\n".join([*lines, *(f"  - {failure}" for failure in self.failures)])


def p95(latencies: list[float]) -> float:
    """Nearest-rank 95th percentile (0 for no values)."""
    if not latencies:
        return 0.0
    ordered = sorted(latencies)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


def load_samples(s3: Any, uri: str, limit: int) -> list[dict[str, Any]]:
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


def check_response(result: InvokeResult) -> str | None:
    """Why a response fails the status or schema check (``"status: ..."``/``"schema: ..."``), or None."""
    if result.status != 200:
        return f"status: HTTP {result.status}: {result.body[:200].decode('utf-8', 'replace')}"
    try:
        document = json.loads(result.body)
    except ValueError:
        return f"schema: body is not JSON: {result.body[:80]!r}"
    predictions = document.get("predictions") if isinstance(document, dict) else None
    if not isinstance(predictions, list) or len(predictions) != 1:
        return f'schema: expected {{"predictions": [one record]}}, got {str(document)[:120]}'
    problem = prediction_problem(predictions[0])
    return None if problem is None else f"schema: {problem}"


def run_smoke(
    invoker: Invoker, samples: list[dict[str, Any]], *, max_latency_ms: float, target: str = "model"
) -> SmokeReport:
    """Send each sample alone, check every response and the p95 latency; return the report.

    Raises:
        SmokeSetupError: no samples, or the model cannot be reached at all.
    """
    if not samples:
        raise SmokeSetupError("no smoke samples to send")
    failures: list[Failure] = []
    latencies: list[float] = []
    for index, record in enumerate(samples):
        body = json.dumps({"instances": [record]}).encode("utf-8")
        try:
            result = invoker(body, CONTENT_TYPE_JSON)
        except InvokeError as exc:
            raise SmokeSetupError(f"cannot reach {target}: {exc}") from None
        latencies.append(result.latency_ms)
        problem = check_response(result)
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
    return SmokeReport(target, len(samples), tuple(latencies), percentile, max_latency_ms, tuple(failures))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m release.smoke", description=__doc__.split("\n")[0])
    parser.add_argument("--model-file", required=True, type=Path, help="approved-model JSON file")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--endpoint", help="SageMaker endpoint name")
    where.add_argument("--url", help="model server URL (POST <url>/invocations)")
    parser.add_argument("--samples", type=int, default=20, help="send at most this many samples")
    parser.add_argument("--max-latency-ms", type=float, default=2000.0, help="bound on p95 latency")
    parser.add_argument("--region", default=None, help="AWS region (default: the SDK's)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: 0 passed, 1 a check failed, 2 the test could not run."""
    args = parse_args(argv)
    try:
        model = ApprovedModel.read(args.model_file)
        if model.smoke_samples_uri is None:
            raise SmokeSetupError(f"{args.model_file}: version {model.version} has no smoke samples URI")
        samples = load_samples(
            boto3.client("s3", region_name=args.region), model.smoke_samples_uri, args.samples
        )
        if args.endpoint:
            runtime = boto3.client("sagemaker-runtime", region_name=args.region)
            invoker, target = endpoint_invoker(runtime, args.endpoint), f"endpoint {args.endpoint}"
        else:
            invoker, target = url_invoker(args.url), args.url
        report = run_smoke(invoker, samples, max_latency_ms=args.max_latency_ms, target=target)
    except (OSError, ApprovedModelError, SmokeSetupError) as exc:
        print(f"release.smoke: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
