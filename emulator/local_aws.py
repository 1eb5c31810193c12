"""The embedded AWS stand-in: a moto server on 127.0.0.1 and boto3 clients for it.

Everything offline talks to AWS through boto3 with an `endpoint_url`, so the same code
points at real AWS by dropping the endpoint.

Accounts: moto keeps every service's state per account. Plain fake credentials act in moto's
default account (:data:`emulator.standins.ACCOUNT`, unless ``MOTO_ACCOUNT_ID`` is set, which
then overrides every request's account); credentials from STS ``AssumeRole`` act in the account
the role ARN names, as on AWS. :meth:`LocalAws.assume_role` and :meth:`LocalAws.in_account` give
a :class:`LocalAws` whose clients carry such credentials.
"""

from __future__ import annotations

import logging
import socket
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from emulator.standins import ACCOUNT, PARTITION, REGION

if TYPE_CHECKING:  # the boto3 stubs are a development requirement only
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sts import STSClient

_CHUNK = 1024 * 1024
FAKE_CREDENTIALS = {"aws_access_key_id": "offline", "aws_secret_access_key": "offline"}
#: The role :meth:`LocalAws.in_account` assumes in an account (moto needs no such role to exist).
OFFLINE_ROLE = "offline"


@dataclass(frozen=True)
class LocalAws:
    """Where the stand-in listens, and how to make clients for it."""

    endpoint_url: str
    #: The account this object's clients act in (moto's default account for the fake credentials).
    account: str = ACCOUNT
    #: boto3 client credentials (``aws_access_key_id``, ``aws_secret_access_key``, maybe
    #: ``aws_session_token``); the default fake ones act in moto's default account.
    credentials: dict[str, str] = field(default_factory=lambda: dict(FAKE_CREDENTIALS), repr=False)
    #: The role whose assumed credentials these are (None: the fake default credentials).
    role_arn: str | None = None
    # Creating a boto3 client costs ~20 ms (service model loading); a run makes hundreds of
    # calls, so each service gets one client (boto3 clients are thread-safe). Buckets known to
    # exist, and roles already assumed, are remembered likewise.
    _clients: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _buckets: set[str] = field(default_factory=set, init=False, repr=False, compare=False)
    _assumed: dict[str, LocalAws] = field(default_factory=dict, init=False, repr=False, compare=False)

    @overload
    def client(self, service: Literal["s3"]) -> S3Client: ...
    @overload
    def client(self, service: Literal["sagemaker"]) -> SageMakerClient: ...
    @overload
    def client(self, service: Literal["cloudwatch"]) -> CloudWatchClient: ...
    @overload
    def client(self, service: Literal["sts"]) -> STSClient: ...
    @overload
    def client(self, service: str) -> Any: ...
    def client(self, service: str) -> Any:
        if service not in self._clients:
            # boto3's stubs type a client per literal service name; this one takes any.
            new_client: Callable[..., Any] = boto3.client
            self._clients[service] = new_client(
                service,
                endpoint_url=self.endpoint_url,
                region_name=REGION,
                config=Config(retries={"max_attempts": 2, "mode": "standard"}),
                **self.credentials,
            )
        return self._clients[service]

    # ------------------------------------------------------------------ accounts
    def assume_role(self, role_arn: str, session_name: str = "offline") -> LocalAws:
        """The stand-in as ``role_arn`` (STS ``AssumeRole`` with this object's credentials):
        its clients act in the account the ARN names. The same role again is the same object.

        Raises:
            RuntimeError: the assumed credentials do not act in the role's account (moto's
                ``MOTO_ACCOUNT_ID`` environment variable overrides every request's account).
        """
        if role_arn not in self._assumed:
            answer = self.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session_name)
            issued = answer["Credentials"]
            wanted = role_arn.split(":")[4]
            assumed = LocalAws(
                endpoint_url=self.endpoint_url,
                account=wanted,
                credentials={
                    "aws_access_key_id": issued["AccessKeyId"],
                    "aws_secret_access_key": issued["SecretAccessKey"],
                    "aws_session_token": issued["SessionToken"],
                },
                role_arn=role_arn,
            )
            acting = assumed.client("sts").get_caller_identity()["Account"]
            if acting != wanted:
                raise RuntimeError(
                    f"credentials of {role_arn} act in account {acting}, not {wanted}: "
                    "unset MOTO_ACCOUNT_ID, which makes moto ignore the credentials' account"
                )
            self._assumed[role_arn] = assumed
        return self._assumed[role_arn]

    def in_account(self, account: str | None) -> LocalAws:
        """The stand-in acting in ``account``: this object when it already does (or ``account`` is
        None, an env-agnostic stack's: wherever these credentials act), else with the credentials
        of the role :data:`OFFLINE_ROLE` there (see :meth:`assume_role`)."""
        if account is None or account == self.account:
            return self
        return self.assume_role(f"arn:{PARTITION}:iam::{account}:role/{OFFLINE_ROLE}", f"offline-{account}")

    def step_environment(self) -> dict[str, str]:
        """Env vars that point a step's own boto3 calls at the stand-in, in this object's account."""
        names = {
            "aws_access_key_id": "AWS_ACCESS_KEY_ID",
            "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
            "aws_session_token": "AWS_SESSION_TOKEN",
        }
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            **{names[key]: value for key, value in self.credentials.items()},
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }

    # ------------------------------------------------------------------ S3 helpers
    def ensure_bucket(self, bucket: str) -> None:
        """Create `bucket` in the stand-in unless it exists (S3 buckets appear on first use)."""
        if bucket in self._buckets:
            return
        s3 = self.client("s3")
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError:
            s3.create_bucket(Bucket=bucket)
        self._buckets.add(bucket)

    def upload_file(self, path: Path, uri: str) -> None:
        bucket, key = split_s3_uri(uri)
        self.ensure_bucket(bucket)
        self.client("s3").upload_file(str(path), bucket, key)

    def upload_dir(self, directory: Path, uri: str) -> list[str]:
        """Upload every file below `directory` under the `uri` prefix; returns the keys."""
        bucket, prefix = split_s3_uri(uri)
        self.ensure_bucket(bucket)
        s3 = self.client("s3")
        keys = []
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            key = "/".join(x for x in (prefix.rstrip("/"), path.relative_to(directory).as_posix()) if x)
            s3.upload_file(str(path), bucket, key)
            keys.append(key)
        return keys

    def list_prefix(self, uri: str) -> list[tuple[str, str]]:
        """SageMaker's S3Prefix semantics: ``(key, path below the prefix)`` of each object under it (a
        key that *is* the prefix: its base name; "folder" markers skipped). Paths unchecked: see
        :func:`leaves_folder`."""
        bucket, prefix = split_s3_uri(uri)
        pages = self.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        keys = [o["Key"] for page in pages for o in page.get("Contents", []) if not o["Key"].endswith("/")]
        return [(key, key[len(prefix) :].lstrip("/") or key.rsplit("/", 1)[-1]) for key in keys]

    def download_object(self, uri: str, target: Path) -> None:
        """Stream one object into ``target`` (its folder made); ClientError when it cannot be read."""
        bucket, key = split_s3_uri(uri)
        # Streamed: s3transfer's download_file (threads, a HEAD per file) takes twice as long per small object
        body = self.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as handle:
            for chunk in body.iter_chunks(_CHUNK):
                handle.write(chunk)

    def download_prefix(self, uri: str, destination: Path) -> list[Path]:
        """Every object under the prefix at its path below ``destination``; ValueError (nothing
        written) when a key climbs out of it (``..``: S3 keys may hold them)."""
        bucket, _ = split_s3_uri(uri)
        listed = self.list_prefix(uri)
        for key, relative in listed:
            if leaves_folder(relative):
                raise ValueError(f"object key {key!r} under {uri} leaves {destination}")
        for key, relative in listed:
            self.download_object(f"s3://{bucket}/{key}", destination / relative)
        return [destination / relative for _, relative in listed]

    def read_object(self, uri: str) -> bytes:
        bucket, key = split_s3_uri(uri)
        body: bytes = self.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        return body


def leaves_folder(relative: str) -> bool:
    """Whether a path below a folder climbs out of it (``..``: S3 keys and manifest entries may hold them)."""
    return not (Path("/folder") / relative).resolve().is_relative_to("/folder")


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key); anything else is a clear error."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise ValueError(f"expected an s3:// URI, got {uri!r}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def moto_server(port: int | None = None) -> Iterator[LocalAws]:
    """Run a moto server on 127.0.0.1 for the duration of the block."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log on the terminal
    port = port or _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=2):  # noqa: S310 (loopback)
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the moto server on {url} did not start within 30 s") from None
                time.sleep(0.1)
        # moto keeps its state per process, not per server: start each server empty.
        reset = urllib.request.Request(f"{url}/moto-api/reset", method="POST")  # noqa: S310 (loopback)
        with urllib.request.urlopen(reset, timeout=5):  # noqa: S310 (loopback)
            pass
        yield LocalAws(endpoint_url=url)
    finally:
        server.stop()
