"""Lambda step of the drift-check pipeline: pick the capture files inside the lookback window.

Data capture only grows, and a processing input of the whole ``data-capture/<endpoint>/`` prefix
would download all of it every hour (and fail outright before the first request, as SageMaker
refuses an S3 input without objects). This step lists only the hour folders the window touches,
``<capture_uri><variant>/yyyy/mm/dd/hh/``, for every production variant, so its cost follows the
window, not the history. A shadow variant's folder is left out: its records are the challenger's
answers to copies of prod's requests, and counted in they would weigh each shadowed request twice
in prod's drift. It writes the files found as a SageMaker S3 manifest for the check's input
(``S3DataType: ManifestFile``). ``ml_code/drift/monitor.py`` still applies the exact window per record.

Event (the step's Arguments): ``{"capture_uri": "s3://bucket/data-capture/<endpoint>/",
"lookback_hours": "24", "manifest_uri": "s3://bucket/drift-checks/<execution>/capture.manifest"}``.
Returns ``{"files": n, "manifest_uri": ...}`` (the step's output parameters); with no files the
manifest is not written (a manifest must list at least one object) and the pipeline skips the
check. Standard library and boto3 only (this folder is the Lambda code asset).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:  # type stubs: a development requirement, not in the Lambda bundle
    from mypy_boto3_s3 import S3Client

#: Must equal ``ml_code.contract.CAPTURE_FILE_SUFFIX`` (a test pins it; Lambda code cannot import ml_code).
CAPTURE_FILE_SUFFIX = ".jsonl"
#: The endpoint's shadow variant (the endpoint config's; a test pins it): not prod's traffic.
SHADOW_VARIANT = "Shadow"
#: The drift check's own limit on ``--lookback-hours`` (``ml_code/drift/monitor.py``).
MAX_LOOKBACK_HOURS = 24 * 366


def lookback(value: Any) -> float:
    """``lookback_hours`` (a pipeline String parameter, or a number) as hours.

    Raises:
        ValueError: not a number in (0, :data:`MAX_LOOKBACK_HOURS`] (names the field).
    """
    try:
        hours = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        hours = math.nan
    if not 0 < hours <= MAX_LOOKBACK_HOURS:  # NaN fails this too
        raise ValueError(
            f"lookback_hours: expected a number of hours in (0, {MAX_LOOKBACK_HOURS}], got {value!r}"
        )
    return hours


def split_s3_uri(field: str, uri: Any, *, folder: bool) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key); a ``folder`` URI must end in ``/``.

    Raises:
        ValueError: anything else (names the field).
    """
    bucket, _, key = str(uri)[len("s3://") :].partition("/")
    shape = "s3://bucket/prefix/" if folder else "s3://bucket/key"
    if (
        not isinstance(uri, str)
        or not uri.startswith("s3://")
        or not bucket
        or not key
        or key.endswith("/") != folder
    ):
        raise ValueError(f"{field}: expected {shape}, got {uri!r}")
    return bucket, key


def hour_folders(now: datetime, hours: float) -> list[str]:
    """``yyyy/mm/dd/hh/`` of every UTC hour from the one holding ``now - hours`` to ``now``'s."""
    start = (now - timedelta(hours=hours)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end = now.astimezone(UTC)
    folders = []
    while start <= end:
        folders.append(start.strftime("%Y/%m/%d/%H/"))
        start += timedelta(hours=1)
    return folders


def variants(s3: S3Client, bucket: str, prefix: str) -> list[str]:
    """The production variant folders (``AllTraffic/``, ...) directly under the endpoint's capture
    prefix: every one but the shadow variant's."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/")
    found = (p["Prefix"][len(prefix) :] for page in pages for p in page.get("CommonPrefixes", []))
    return sorted(v for v in found if v != f"{SHADOW_VARIANT}/")


def capture_keys(s3: S3Client, bucket: str, prefix: str, folders: list[str]) -> list[str]:
    """Keys (relative to ``prefix``) of the capture files in ``folders`` of every variant."""
    keys = []
    for variant in variants(s3, bucket, prefix):
        for folder in folders:
            where = f"{prefix}{variant}{folder}"
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=where):
                keys += [
                    o["Key"][len(prefix) :]
                    for o in page.get("Contents", [])
                    if o["Key"].endswith(CAPTURE_FILE_SUFFIX)
                ]
    return keys


def manifest(bucket: str, prefix: str, keys: list[str]) -> list[Any]:
    """A SageMaker S3 manifest: ``[{"prefix": "s3://bucket/prefix/"}, "relative/key", ...]``."""
    return [{"prefix": f"s3://{bucket}/{prefix}"}, *keys]


def handler(event: dict[str, Any], context: Any = None, *, now: datetime | None = None) -> dict[str, Any]:
    """List the window's capture files, write their manifest; returns ``files`` and ``manifest_uri``.

    Raises:
        ValueError: a bad ``capture_uri``, ``manifest_uri`` or ``lookback_hours`` (names it).
    """
    bucket, prefix = split_s3_uri("capture_uri", event.get("capture_uri"), folder=True)
    manifest_uri = event.get("manifest_uri")
    out_bucket, out_key = split_s3_uri("manifest_uri", manifest_uri, folder=False)
    hours = lookback(event.get("lookback_hours"))
    folders = hour_folders(now or datetime.now(UTC), hours)
    s3 = boto3.client("s3")
    keys = capture_keys(s3, bucket, prefix, folders)
    if keys:
        body = json.dumps(manifest(bucket, prefix, keys)).encode()
        s3.put_object(Bucket=out_bucket, Key=out_key, Body=body, ContentType="application/json")
    summary = {
        "capture_uri": event["capture_uri"],
        "hours_listed": len(folders),
        "files": len(keys),
        "manifest_uri": manifest_uri if keys else None,
    }
    print(json.dumps(summary))
    return {"files": len(keys), "manifest_uri": manifest_uri}
