"""The runtime's asynchronous API on the local server: ``POST /endpoints/<name>/async-invocations``.

What ``boto3.client("sagemaker-runtime", endpoint_url=<local server>).invoke_endpoint_async(...)``
sends (botocore's ``InvokeEndpointAsync`` shape): the input as ``X-Amzn-SageMaker-InputLocation``
(an ``s3://`` object) or, since 2025, inline as the body (at most 128,000 bytes; exactly one of the
two), ``X-Amzn-SageMaker-Content-Type``/``-Accept`` for the model, ``-Inference-Id`` (else one is
made up), ``-S3OutputPathExtension`` (a folder appended to both paths) and ``-Filename`` (the
result's name instead of ``<id>.out``). The answer is a 202 at once: ``{"InferenceId": ...}`` with
``X-Amzn-SageMaker-OutputLocation`` and ``-FailureLocation``. A queue then runs each request
through the same handlers as ``/invocations`` and writes a 200's body to
``<S3OutputPath><id>.out`` or any other answer (the container's error text) to
``<S3FailurePath><id>-error.out``, SageMaker's names, with the answer's content type. A request the
API would refuse gets a 400 ``ValidationError`` in the runtime's error format.

Offline differences: no SNS notifications, no queue expiry (RequestTTLSeconds) or invocation
timeout (InvocationTimeoutSeconds); the S3 client is boto3's (``AWS_ENDPOINT_URL_S3`` points it at
the stand-in). Enabled by :func:`with_route` (``serve_in_thread(async_inference=...)``), or for the
CLI by ``MLOPS_SERVE_ASYNC_OUTPUT``/``_FAILURE`` (and ``_ENDPOINT``: the one name it answers for).
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Final

from ml_code.contract import CONTENT_TYPE_ERROR
from ml_code.errors import PayloadTooLargeError
from ml_code.serving import hosting
from ml_code.serving.app import InvocationsApp, Receive, Scope, Send

LOG: Final = logging.getLogger("ml_code.serving.async_invocations")
ROUTE: Final = re.compile(r"^/endpoints/([^/]+)/async-invocations$")
#: InvokeEndpointAsync's limit on an inline body (botocore's shape: Body max 128000).
MAX_INLINE_BYTES: Final = 128_000
OUTPUT_SUFFIX: Final = ".out"
FAILURE_SUFFIX: Final = "-error.out"
OUTPUT_ENV: Final = "MLOPS_SERVE_ASYNC_OUTPUT"
FAILURE_ENV: Final = "MLOPS_SERVE_ASYNC_FAILURE"
ENDPOINT_ENV: Final = "MLOPS_SERVE_ASYNC_ENDPOINT"
_HEADER: Final = "x-amzn-sagemaker-"


@dataclass(frozen=True)
class AsyncSettings:
    """An async endpoint config's ``OutputConfig``, and what the route answers for.

    ``endpoint_name``: None answers any name. ``s3``: a boto3 S3 client (None: boto3's default
    one, made on first use). ``workers``: requests run at once (MaxConcurrentInvocationsPerInstance).
    """

    output_path: str
    failure_path: str
    endpoint_name: str | None = None
    kms_key_id: str | None = None
    workers: int = 1
    s3: Any = field(default=None, repr=False, compare=False)


class RequestError(ValueError):
    """A request the runtime API refuses (400 ValidationError); the message says why."""


@dataclass(frozen=True)
class AsyncRequest:
    """One accepted request: where its input is (or the input), how the model reads it, where
    its answer goes."""

    inference_id: str
    content_type: str
    accept: str
    output_location: str
    failure_location: str
    input_location: str | None = None
    body: bytes | None = None


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of ``s3://bucket/key``; raises RequestError for anything else."""
    if not uri.startswith("s3://") or "/" not in uri[5:] or uri[5:].startswith("/"):
        raise RequestError(f"{uri!r} is not an s3://bucket/key location (the local server reads s3:// only)")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def _join(path: str, extension: str | None, name: str) -> str:
    folder = path if path.endswith("/") else f"{path}/"
    return f"{folder}{extension.strip('/')}/{name}" if extension else f"{folder}{name}"


def parse_request(
    headers: dict[str, str], body: bytes, settings: AsyncSettings, default_accept: str
) -> AsyncRequest:
    """The request as the async API reads it (``headers`` lower case); raises RequestError."""
    location = headers.get(f"{_HEADER}inputlocation")
    if (location is None) == (not body):
        raise RequestError("provide exactly one of InputLocation and an inline Body")
    if len(body) > MAX_INLINE_BYTES:
        raise RequestError(f"inline Body is {len(body)} bytes; the limit is {MAX_INLINE_BYTES}")
    if location is not None:
        split_s3_uri(location)
    inference_id = headers.get(f"{_HEADER}inference-id") or str(uuid.uuid4())
    extension = headers.get(f"{_HEADER}s3outputpathextension")
    filename = headers.get(f"{_HEADER}filename") or f"{inference_id}{OUTPUT_SUFFIX}"
    content_type = headers.get(f"{_HEADER}content-type")
    return AsyncRequest(
        inference_id=inference_id,
        content_type=hosting.request_content_type({"content-type": content_type} if content_type else {}),
        accept=hosting.request_accept({"accept": headers.get(f"{_HEADER}accept", "")}, default_accept),
        output_location=_join(settings.output_path, extension, filename),
        failure_location=_join(settings.failure_path, extension, f"{inference_id}{FAILURE_SUFFIX}"),
        input_location=location,
        body=None if location is not None else body,
    )


class AsyncInvocationsApp(InvocationsApp):
    """The hosting app plus the async route; every other request goes to the hosting app as is."""

    def __init__(self, base: InvocationsApp, settings: AsyncSettings) -> None:
        super().__init__(
            base.model, timeout_seconds=base.timeout_seconds, max_body_bytes=base.max_body_bytes,
            capture=base.capture,
        )  # fmt: skip
        self.settings = settings
        self._s3 = settings.s3
        self._queue = ThreadPoolExecutor(max_workers=max(1, settings.workers), thread_name_prefix="async")
        self._pending: set[Future[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/endpoints/"):
            await super().__call__(scope, receive, send)
            return
        match = ROUTE.match(scope["path"])
        if match is None or scope["method"] != "POST":
            await _answer(send, 404, {"message": f"no route for {scope['method']} {scope['path']}"}, [])
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            raw = await self._read_body(None, receive)
            if raw is None:
                return  # the client went away
            name, served = match.group(1), self.settings.endpoint_name
            if served is not None and name != served:
                raise RequestError(f"Endpoint {name} not found (this server is {served})")
            request = parse_request(headers, raw, self.settings, self.default_accept)
        except (RequestError, PayloadTooLargeError) as exc:
            await _answer(send, 400, {"message": str(exc)}, [(b"x-amzn-errortype", b"ValidationError")])
            return
        self.submit(request)
        locations = [
            (b"x-amzn-sagemaker-outputlocation", request.output_location.encode("latin-1")),
            (b"x-amzn-sagemaker-failurelocation", request.failure_location.encode("latin-1")),
        ]
        await _answer(send, 202, {"InferenceId": request.inference_id}, locations)

    def submit(self, request: AsyncRequest) -> Future[None]:
        """Queue ``request``; its answer is written by a queue thread."""
        future = self._queue.submit(self.process, request)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    def process(self, request: AsyncRequest) -> None:
        """Read the input, run the handlers, write the answer to the output or failure location
        (never raises: what goes wrong is written to the failure location, or logged)."""
        try:
            raw = request.body if request.body is not None else self._read(request.input_location or "")
        except Exception as exc:  # any read failure is this request's failure
            message = f"cannot read {request.input_location}: {exc}"
            self._write(request.failure_location, message.encode("utf-8"), CONTENT_TYPE_ERROR)
            return
        content_type = request.content_type
        reply = self.handle(hosting.request_body(raw, content_type), content_type, request.accept)
        target = request.output_location if reply.status == 200 else request.failure_location
        self._write(target, reply.body, reply.content_type)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait for every queued request to be written; False if that took over ``timeout`` s."""
        _, not_done = wait(list(self._pending), timeout=timeout)
        return not not_done

    def close(self) -> None:
        """Finish the queued requests, then close the hosting app."""
        self._queue.shutdown(wait=True)
        super().close()

    def _client(self) -> Any:
        if self._s3 is None:
            import boto3  # noqa: PLC0415 - only a server with the async route needs boto3

            self._s3 = boto3.client("s3")
        return self._s3

    def _read(self, uri: str) -> bytes:
        bucket, key = split_s3_uri(uri)
        data: bytes = self._client().get_object(Bucket=bucket, Key=key)["Body"].read()
        return data

    def _write(self, uri: str, body: bytes, content_type: str) -> None:
        bucket, key = split_s3_uri(uri)
        extra: dict[str, str] = {}
        if self.settings.kms_key_id:
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.settings.kms_key_id}
        try:
            self._client().put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, **extra)
        except Exception:
            LOG.exception("async inference: cannot write %s", uri)


def with_route(app: InvocationsApp, settings: AsyncSettings | None) -> InvocationsApp:
    """``app`` itself without ``settings``; else the same app with the async route."""
    return app if settings is None else AsyncInvocationsApp(app, settings)


def from_env(app: InvocationsApp) -> InvocationsApp:
    """``app`` with the async route when the CLI's environment asks for it (:func:`settings_from_env`)."""
    return with_route(app, settings_from_env())


def settings_from_env() -> AsyncSettings | None:
    """The CLI's settings (``MLOPS_SERVE_ASYNC_OUTPUT``, ``_FAILURE``, ``_ENDPOINT``); None when
    no output path is set."""
    output = os.environ.get(OUTPUT_ENV)
    if not output:
        return None
    failure = os.environ.get(FAILURE_ENV) or output
    return AsyncSettings(output, failure, endpoint_name=os.environ.get(ENDPOINT_ENV) or None)


async def _answer(
    send: Send, status: int, payload: dict[str, str], headers: list[tuple[bytes, bytes]]
) -> None:
    body = json.dumps(payload).encode("utf-8")
    length = (b"content-length", str(len(body)).encode())
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [*headers, (b"content-type", b"application/json"), length],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})
