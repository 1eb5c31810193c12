"""Where the shadow report's inputs come from: both variants' data capture, and model latency.

Capture is read from S3 (``s3://<bucket>/data-capture/<endpoint>/<variant>/yyyy/mm/dd/hh/``, only
the hour folders the window touches) or, offline, from the local server's capture folder in the
same layout. Latency is CloudWatch's ``ModelLatency`` per variant on AWS, or the local server's
record offline (:meth:`ml_code.serving.shadow.ShadowApp.write_latencies`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from release import shadow_metrics as m
from release.shadow_pairs import Record, parse_record

if TYPE_CHECKING:  # the boto3 stubs are a development requirement only
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_s3 import S3Client

PRODUCTION_VARIANT: Final = "AllTraffic"
#: Must equal ml_code.serving.shadow.SHADOW_VARIANT and the endpoint config's shadow variant name.
SHADOW_VARIANT: Final = "Shadow"
VARIANTS: Final = (PRODUCTION_VARIANT, SHADOW_VARIANT)


def hour_prefixes(start: datetime, end: datetime) -> list[str]:
    """``yyyy/mm/dd/hh/`` of every UTC hour from ``start``'s to ``end``'s."""
    hour, folders = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0), []
    while hour <= end:
        folders.append(hour.strftime("%Y/%m/%d/%H/"))
        hour += timedelta(hours=1)
    return folders


def s3_lines(
    s3: S3Client, capture_uri: str, endpoint: str, variant: str, hours: list[str]
) -> Iterator[bytes]:
    """Every line of the variant's capture files in ``hours`` under ``capture_uri``."""
    bucket, _, root = capture_uri[len("s3://") :].partition("/")
    for hour in hours:
        prefix = f"{root.rstrip('/')}/{endpoint}/{variant}/{hour}"
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield from s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().splitlines()


def dir_lines(root: Path, endpoint: str, variant: str, hours: list[str]) -> Iterator[bytes]:
    """The same from a local capture folder (the local server's ``--capture-dir``)."""
    for hour in hours:
        for path in sorted((root / endpoint / variant / hour).glob("*.jsonl")):
            yield from path.read_bytes().splitlines()


def records(lines: Iterator[bytes], start: datetime, end: datetime) -> list[Record]:
    """Readable records whose inference time lies in [start, end]."""
    parsed = (parse_record(line) for line in lines if line.strip())
    return [r for r in parsed if r is not None and start <= r.time <= end]


def cloudwatch_latency(
    cloudwatch: CloudWatchClient, endpoint: str, start: datetime, end: datetime
) -> dict[str, dict[str, float] | None]:
    """ModelLatency p50/p90 in ms per variant over the window (CloudWatch reports microseconds)."""
    seconds = max(60, int((end - start).total_seconds()) // 60 * 60)
    found: dict[str, dict[str, float] | None] = {}
    for variant in (PRODUCTION_VARIANT, SHADOW_VARIANT):
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/SageMaker",
            MetricName="ModelLatency",
            StartTime=start,
            EndTime=end,
            Period=seconds,
            ExtendedStatistics=["p50", "p90"],
            Dimensions=[
                {"Name": "EndpointName", "Value": endpoint},
                {"Name": "VariantName", "Value": variant},
            ],
        )["Datapoints"]
        stats = points[0].get("ExtendedStatistics", {}) if points else {}
        found[variant] = {k: round(v / 1000, 3) for k, v in sorted(stats.items())} or None
    return found


def file_latency(path: Path) -> dict[str, dict[str, float] | None]:
    """p50/p90 per variant from the local server's latency record (``{variant: [ms, ...]}``)."""
    recorded = json.loads(path.read_text(encoding="utf-8"))
    return {v: m.percentiles(recorded.get(v, [])) for v in (PRODUCTION_VARIANT, SHADOW_VARIANT)}
