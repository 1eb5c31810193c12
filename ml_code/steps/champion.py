"""Find the champion: the newest *Approved* model version in a model package group.

The champion's score is the ``quality_gate.value`` of the evaluation report it was
registered with (``ModelMetrics.ModelQuality.Statistics.S3Uri``). A version whose report
is missing, unreadable or scored on another metric is skipped with a log line, so one
hand-registered version cannot block every future run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import ClientError

from ml_code.contract import GATE_SECTION

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Champion:
    value: float
    model_package_arn: str


def _report_uri(description: dict[str, Any]) -> str | None:
    quality = description.get("ModelMetrics", {}).get("ModelQuality", {})
    uri = quality.get("Statistics", {}).get("S3Uri")
    return str(uri) if uri else None


def read_gate_value(s3: Any, uri: str, metric: str | None = None) -> float:
    """The ``quality_gate.value`` of the report at ``uri``.

    Raises ValueError when the report is unreadable, has no gate value, or was scored on a
    metric other than ``metric``; botocore's ClientError when S3 refuses.
    """
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"not an s3:// URI: {uri!r}")
    body = s3.get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))["Body"].read()
    try:
        gate = json.loads(body)[GATE_SECTION]
        value = float(gate["value"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{uri} has no readable {GATE_SECTION}.value ({exc!r})") from exc
    if metric is not None and gate.get("metric") != metric:
        raise ValueError(f"{uri} scored {gate.get('metric')!r}, not {metric!r}")
    return value


def find_champion(sagemaker: Any, s3: Any, group_name: str, metric: str | None = None) -> Champion | None:
    """The newest Approved version of ``group_name`` with a readable report, or None.

    ``sagemaker`` and ``s3`` are boto3 clients. Raises ClientError when the group cannot be
    listed (e.g. a missing permission): treating that as "no champion" would let any candidate
    through the gate, so it surfaces instead.
    """
    pages = sagemaker.get_paginator("list_model_packages").paginate(
        ModelPackageGroupName=group_name,
        ModelApprovalStatus="Approved",
        SortBy="CreationTime",
        SortOrder="Descending",
    )
    for page in pages:
        for summary in page.get("ModelPackageSummaryList", []):
            arn = summary["ModelPackageArn"]
            try:
                uri = _report_uri(sagemaker.describe_model_package(ModelPackageName=arn))
                if uri is None:
                    LOG.warning("skipping approved %s: it has no model quality report", arn)
                    continue
                value = read_gate_value(s3, uri, metric)
            except (ClientError, ValueError) as exc:
                LOG.warning("skipping approved %s: %s", arn, exc)
                continue
            LOG.info("champion %s scores %s", arn, value)
            return Champion(value=value, model_package_arn=arn)
    LOG.info("no approved version with a report in %s: the candidate has no champion to beat", group_name)
    return None
