"""The champion: the newest *Approved* model version in the group, scored on this run's test rows.

Evaluate downloads the version's ``model.tar.gz`` (its ``ModelDataUrl``; the job has network) and
scores it on this run's raw test rows with the champion's own transformer
(:func:`ml_code.steps.gate_model.score_raw`), so champion and challenger are compared on the same
rows (:mod:`ml_code.steps.gate_bootstrap`). A champion that cannot be scored (no model URL, an
unreadable archive, another set of classes, columns it needs that this data lacks) is named with the
reason (:class:`ChampionScores` with ``error``): the gate says so instead of passing silently.
"""

from __future__ import annotations

import logging
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import BotoCoreError, ClientError

from ml_code.steps.gate_decision import ChampionScores
from ml_code.steps.gate_model import MODEL_ARCHIVE, extract_model, load_model, score_raw

LOG = logging.getLogger(__name__)
#: What a champion that cannot be downloaded, unpacked, loaded or scored raises (DataValidationError
#: is a ValueError).
_UNREADABLE = (ClientError, BotoCoreError, ValueError, KeyError, tarfile.TarError, OSError)


@dataclass(frozen=True)
class Champion:
    model_package_arn: str
    #: The version's model.tar.gz (its first container's ModelDataUrl), None when it has none.
    model_data_url: str | None


def _model_data_url(description: dict[str, Any]) -> str | None:
    containers = description.get("InferenceSpecification", {}).get("Containers", [])
    url = containers[0].get("ModelDataUrl") if containers else None
    return str(url) if url else None


def find_champion(sagemaker: Any, group_name: str) -> Champion | None:
    """The newest Approved version of ``group_name``, or None when there is none.

    ``sagemaker`` is a boto3 client. A version deleted between the listing and its description is
    passed over. Raises ClientError when the group cannot be listed (e.g. a missing permission):
    treating that as "no champion" would let any candidate through the gate, so it surfaces instead.
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
                description = sagemaker.describe_model_package(ModelPackageName=arn)
            except ClientError as exc:
                LOG.warning("skipping approved %s: %s", arn, exc)
                continue
            LOG.info("champion: %s", arn)
            return Champion(model_package_arn=arn, model_data_url=_model_data_url(description))
    LOG.info("no approved version in %s: the candidate has no champion to compare with", group_name)
    return None


def _download(s3: Any, url: str, folder: Path) -> Path:
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"its model data {url!r} is not an s3:// URI")
    folder.mkdir(parents=True, exist_ok=True)
    s3.download_file(parsed.netloc, parsed.path.lstrip("/"), str(folder / MODEL_ARCHIVE))
    return folder


def score_champion(
    champion: Champion,
    s3: Any,
    parts: Sequence[Path],
    *,
    labels: Sequence[Any] | None,
    chunk_rows: int,
) -> ChampionScores:
    """The champion's predictions on the raw test rows behind ``parts``, or the reason there are none.

    ``labels``: this run's classes (None for regression); a champion with other classes cannot be
    compared on the same class indices.
    """
    arn = champion.model_package_arn
    if champion.model_data_url is None:
        return ChampionScores(arn, error="it has no ModelDataUrl")
    with tempfile.TemporaryDirectory() as scratch:
        try:
            downloaded = _download(s3, champion.model_data_url, Path(scratch) / "archive")
            booster, transformer = load_model(extract_model(downloaded, Path(scratch) / "model"))
            if transformer.labels != (None if labels is None else list(labels)):
                return ChampionScores(
                    arn, error=f"its classes {transformer.labels} are not this run's {labels}"
                )
            predictions = score_raw(booster, transformer, parts, chunk_rows)
        except _UNREADABLE as exc:
            LOG.warning("champion %s could not be scored: %s", arn, exc)
            return ChampionScores(arn, error=str(exc).splitlines()[0][:200])
    return ChampionScores(arn, predictions=predictions)
