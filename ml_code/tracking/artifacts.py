"""Putting a run's artifacts where its ``artifact_uri`` says.

- ``s3://bucket/prefix`` (a SageMaker tracking server's store): S3 PutObject with the job's role,
  the bucket's default encryption applying;
- ``mlflow-artifacts:/path`` (a server run with ``--serve-artifacts``, as ``make demo``'s): an HTTP
  PUT to ``<server>/api/2.0/mlflow-artifacts/artifacts/<path>/<name>``, through the same client.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlparse

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ml_code.tracking.client import MlflowRest, TrackingError

ARTIFACTS_API: Final = "/api/2.0/mlflow-artifacts/artifacts/"


def _s3_client() -> Any:
    return boto3.client("s3")


def upload(
    rest: MlflowRest, artifact_uri: str, files: Mapping[str, Path],
    s3_client: Callable[[], Any] = _s3_client,
) -> list[str]:  # fmt: skip
    """Upload each ``files[name]`` as artifact ``name`` (a relative path); the names uploaded.

    Raises:
        TrackingError: an unsupported store, or the store refused a file.
    """
    where = urlparse(artifact_uri)
    if where.scheme == "mlflow-artifacts":
        base = f"{rest.base_url}{ARTIFACTS_API}{quote(where.path.strip('/'))}"
        for name, path in files.items():
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            rest.send("PUT", f"{base}/{quote(name)}", path.read_bytes(), {"Content-Type": kind},
                      f"MLflow artifact upload {name}")  # fmt: skip
    elif where.scheme == "s3":
        _put_s3(s3_client(), where.netloc, where.path.strip("/"), files)
    else:
        raise TrackingError(f"the run's artifact store {artifact_uri!r} is not s3:// or mlflow-artifacts:/")
    return list(files)


def _put_s3(s3: Any, bucket: str, prefix: str, files: Mapping[str, Path]) -> None:
    for name, path in files.items():
        key = f"{prefix}/{name}" if prefix else name
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise TrackingError(f"S3 PutObject s3://{bucket}/{key}: HTTP {status} "
                                f"{error.get('Code')}: {error.get('Message')}") from exc  # fmt: skip
        except BotoCoreError as exc:
            raise TrackingError(f"S3 PutObject s3://{bucket}/{key}: {exc}") from exc
