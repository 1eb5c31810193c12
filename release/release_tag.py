"""Mark the version a deploy build ships into a stage account: ``mlops:released-<stage>=true``.

``python -m release.release_tag --stage NAME --model-file FILE [--region R]``

The tooling account's artifact bucket lets a stage account's model role (and its drift-check
role) read a training output or a baseline only when the object carries the stage's tag
(:func:`contracts.layout.released_tag`, checked with ``s3:ExistingObjectTag`` in
:mod:`stacks.data.stage_access`). The stage account's administrator owns those role names, so
without the tag it could read every run's model; with it, only the versions shipped to it. The
deploy build of a stage in another account runs this after ``release.resolve`` wrote ``FILE`` and
before ``cdk deploy`` (the model must be readable when SageMaker creates the model); only that
build's role may tag these objects (the bucket denies tagging under ``pipeline-runs/`` to anyone
else). Tagging is idempotent, and keeps the object's other tags (PutObjectTagging replaces the set).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from contracts.approved_model import ApprovedModel, ApprovedModelError
from contracts.layout import RELEASED, released_tag

if TYPE_CHECKING:  # the boto3 stubs are a development requirement only
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import TagTypeDef


def released_objects(model: ApprovedModel) -> list[str]:
    """The objects of ``model`` a stage account reads: its model file and its baseline (when recorded)."""
    uris = [model.model_data_url, model.baseline_statistics_uri, model.baseline_constraints_uri]
    return [str(uri) for uri in uris if uri is not None]


def _release(stage: str) -> TagTypeDef:
    return {"Key": released_tag(stage), "Value": RELEASED}


def _tag_set(s3: S3Client, uri: str) -> tuple[str, str, list[TagTypeDef]]:
    """(bucket, key, the object's tags) of the object ``uri``."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key, list(s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"])


def tag_released(s3: S3Client, uri: str, stage: str) -> bool:
    """Add ``released_tag(stage)`` to the object ``uri``; False when it already had it."""
    bucket, key, tags = _tag_set(s3, uri)
    wanted = _release(stage)
    if wanted in tags:
        return False
    kept = [tag for tag in tags if tag["Key"] != wanted["Key"]]
    s3.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": [*kept, wanted]})
    return True


def untagged(s3: S3Client, model: ApprovedModel, stage: str) -> list[str]:
    """The objects of ``model`` that lack ``stage``'s release tag (so its account cannot read them)."""
    return [uri for uri in released_objects(model) if _release(stage) not in _tag_set(s3, uri)[2]]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m release.release_tag",
        allow_abbrev=False,
        description="Tag the version in FILE as shipped to STAGE, so that stage's account may read it.",
    )
    parser.add_argument("--stage", required=True, help="the stage the version ships to")
    parser.add_argument(
        "--model-file", required=True, type=Path, help="approved-model JSON (from release.resolve)"
    )
    parser.add_argument("--region", default=None, help="AWS region (default: the SDK's)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, s3: S3Client | None = None) -> int:
    """CLI entry point: 0 when every object carries the tag, 2 (one line on stderr) otherwise."""
    args = parse_args(argv)
    try:
        model = ApprovedModel.read(args.model_file)
    except (OSError, ApprovedModelError) as exc:
        print(f"release.release_tag: {args.model_file}: {exc}", file=sys.stderr)
        return 2
    client = s3 or boto3.client("s3", region_name=args.region)
    for uri in released_objects(model):
        try:
            added = tag_released(client, uri, args.stage)
        except (BotoCoreError, ClientError) as exc:
            print(f"release.release_tag: cannot tag {uri} for {args.stage}: {exc}", file=sys.stderr)
            return 2
        state = "tagged" if added else "already tagged"
        print(f"{uri}: {state} {released_tag(args.stage)}={RELEASED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
