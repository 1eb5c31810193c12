"""A job's S3 inputs, fetched into each host's stand-in for /opt/ml as SageMaker fetches them (File mode).

The objects an input names: every object under an ``S3Prefix`` (an object whose key *is* the
prefix lands under its base name; console "folder" markers are skipped), or the ones a
``ManifestFile`` lists (``[{"prefix": "s3://b/p/"}, "rel/key", ...]``), each at its path relative to
the prefix. ``S3DataDistributionType`` says which host gets which:

- ``FullyReplicated`` (the default): every host gets every object;
- ``ShardedByS3Key``: the objects, sorted by key, are dealt round-robin (object i to host i mod N).
  SageMaker does not document its own assignment, only that each host gets about 1/N of the
  objects and never part of one, so any such split is what a job must be ready for. With fewer
  objects than hosts, some hosts get an empty folder, as in SageMaker; the step's notes say so.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from botocore.exceptions import ClientError

from emulator.jobs import JobContext, StepFailedError
from emulator.local_aws import LocalAws, leaves_folder, split_s3_uri

FULLY_REPLICATED: Final = "FullyReplicated"
SHARDED_BY_S3_KEY: Final = "ShardedByS3Key"


@dataclass(frozen=True)
class _Object:
    """One object of an input: where it is, its path below the input's folder, how errors name it."""

    uri: str
    relative: str
    named: str


def download_input(
    jobs: Sequence[JobContext],
    *,
    uri: str,
    data_type: str,
    distribution: str,
    container_path: str,
    what: str,
) -> list[str]:
    """Fetch the input's objects into ``container_path`` of each host's job; returns notes for the step.

    Raises:
        StepFailedError: a data type or distribution the runner cannot emulate, no objects under
            the prefix, or a manifest that cannot be read or lists objects that cannot be fetched.
    """
    if distribution not in (FULLY_REPLICATED, SHARDED_BY_S3_KEY):
        raise StepFailedError(f"{what}: S3DataDistributionType {distribution!r} is not one SageMaker knows")
    if data_type == "ManifestFile":
        objects = _manifest_objects(jobs[0].aws, uri, what)
    elif data_type == "S3Prefix":
        objects = _prefix_objects(jobs[0].aws, uri, what)
        if not objects:
            raise StepFailedError(f"{what}: no objects under {uri}")
    else:
        raise StepFailedError(
            f"{what}: S3DataType {data_type!r} cannot run locally (only S3Prefix and ManifestFile)"
        )
    folders = [job.local(container_path) for job in jobs]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    sharded = distribution == SHARDED_BY_S3_KEY
    for index, item in enumerate(sorted(objects, key=lambda o: o.uri)):
        targets = [folders[index % len(folders)]] if sharded else folders
        _fetch(jobs[0].aws, item, targets, what)
    if sharded and len(objects) < len(jobs):
        empty = ", ".join(job.home.name for job in jobs[len(objects) :])
        return [
            f"{what} ({SHARDED_BY_S3_KEY}): {len(objects)} object(s) for {len(jobs)} hosts, "
            f"so {empty} got an empty folder (as in SageMaker)"
        ]
    return []


def _prefix_objects(aws: LocalAws, uri: str, what: str) -> list[_Object]:
    bucket, _ = split_s3_uri(uri)
    objects = []
    for key, relative in aws.list_prefix(uri):
        if leaves_folder(relative):
            raise StepFailedError(f"{what}: object key {key!r} leaves the input folder")
        found = f"s3://{bucket}/{key}"
        objects.append(_Object(found, relative, f"cannot fetch {found}"))
    return objects


def _manifest_objects(aws: LocalAws, uri: str, what: str) -> list[_Object]:
    try:
        listed = json.loads(aws.read_object(uri))
    except ClientError as err:
        raise StepFailedError(f"{what}: cannot read the manifest {uri}: {err}") from None
    except ValueError as err:
        raise StepFailedError(f"{what}: the manifest {uri} is not JSON: {err}") from None
    head = listed[0] if isinstance(listed, list) and listed else None
    prefix = head.get("prefix") if isinstance(head, dict) else None
    entries = listed[1:] if isinstance(listed, list) else []
    if not isinstance(prefix, str) or not prefix.startswith("s3://"):
        raise StepFailedError(f'{what}: the manifest {uri} does not start with {{"prefix": "s3://..."}}')
    if not entries or not all(isinstance(e, str) and e for e in entries):
        raise StepFailedError(f"{what}: the manifest {uri} lists no objects (or a non-string entry)")
    for entry in entries:
        if leaves_folder(entry):
            raise StepFailedError(f"{what}: manifest entry {entry!r} leaves the input folder")
    return [_Object(prefix + entry, entry, f"manifest {uri} lists {prefix + entry}") for entry in entries]


def _fetch(aws: LocalAws, item: _Object, folders: list[Path], what: str) -> None:
    """Stream the object into the first folder, then copy it into the others (one GET per object)."""
    targets = [folder / item.relative for folder in folders]
    try:
        aws.download_object(item.uri, targets[0])
    except ClientError as err:
        raise StepFailedError(f"{what}: {item.named}: {err}") from None
    for target in targets[1:]:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(targets[0], target)
