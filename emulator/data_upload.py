"""The training data in the AWS stand-in, where the synthesized pipeline's input parameter points.

``ShardedByS3Key`` deals a prefix's objects (not rows) out over a job's instances, so when the
pipeline's Preprocess runs on P instances the rows are spread over P files, as a user would.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from emulator.local_aws import LocalAws, split_s3_uri
from emulator.provision import OfflinePipeline, ProvisionError, input_data_uri


def raw_data_instances(pipeline: OfflinePipeline) -> int:
    """How many instances share the raw data: its Preprocess step's InstanceCount (1 without one)."""
    for step in pipeline.definition.get("Steps", []):
        if step.get("Name") == "Preprocess":
            cluster = step.get("Arguments", {}).get("ProcessingResources", {}).get("ClusterConfig", {})
            count = cluster.get("InstanceCount", 1)
            return count if isinstance(count, int) and count > 0 else 1
    return 1


def upload_data(aws: LocalAws, pipeline: OfflinePipeline, data: Path) -> str:
    """Put `data` under the prefix the pipeline's input-data parameter defaults to; returns its URI.

    When P instances share the raw data (``ShardedByS3Key`` deals out objects, not rows), the rows
    go into P files ``<name>-<i>-of-<P>.csv`` (dealt round-robin, each with the header), as a user
    would put at least P files there; the URI returned then names the first and the count.
    """
    bucket, prefix = split_s3_uri(input_data_uri(pipeline))
    base = f"s3://{bucket}/{prefix.rstrip('/')}"
    parts = raw_data_instances(pipeline)
    if parts == 1:
        uri = f"{base}/{data.name}"
        aws.upload_file(data, uri)
        return uri
    with tempfile.TemporaryDirectory() as scratch:
        files = _deal_rows(data, Path(scratch), parts)
        for file in files:
            aws.upload_file(file, f"{base}/{file.name}")
    return f"{base}/{files[0].name} (and {parts - 1} more: one file per processing instance)"


def _deal_rows(data: Path, folder: Path, parts: int) -> list[Path]:
    """``data``'s rows dealt round-robin into ``parts`` CSV files in ``folder``, each with the header."""
    files = [folder / f"{data.stem}-{i + 1}-of-{parts}.csv" for i in range(parts)]
    with data.open(newline="", encoding="utf-8") as source:
        rows = csv.reader(source)
        header = next(rows, None)
        if header is None:
            raise ProvisionError(f"{data} is empty: no header to deal rows under")
        handles = [file.open("w", newline="", encoding="utf-8") for file in files]
        try:
            writers = [csv.writer(handle) for handle in handles]
            for writer in writers:
                writer.writerow(header)
            for index, row in enumerate(rows):
                writers[index % parts].writerow(row)
        finally:
            for handle in handles:
                handle.close()
    return files
