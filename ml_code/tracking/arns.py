"""SageMaker ARNs the tracking code reads: one parser for the pipeline execution, the model package
version and the tracking server it is handed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SageMakerArn:
    """``arn:<partition>:sagemaker:<region>:<account>:<kind>/<name>/...``, split."""

    partition: str
    region: str
    #: the names after ``<kind>/``
    path: tuple[str, ...]


def sagemaker_arn(arn: str, kind: str, names: int) -> SageMakerArn | None:
    """``arn`` split when it is a SageMaker ARN of ``kind`` with exactly ``names`` non-empty names
    after it (and a region); None for anything else."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sagemaker" or not parts[3]:
        return None
    found_kind, *path = parts[5].split("/")
    if found_kind != kind or len(path) != names or not all(path):
        return None
    return SageMakerArn(parts[1], parts[3], tuple(path))
