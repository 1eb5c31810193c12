"""How the smoke test reaches a model: a SageMaker endpoint (real-time or async), or a model server's URL.

An :data:`Invoker` takes one request body and its content type and returns an
:class:`InvokeResult` (status, body, content type, client-side latency). Both kinds report a
model's 4xx/5xx as a result rather than an exception, so the smoke test can name it; they raise
:class:`InvokeError` only when the model cannot be reached at all.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from contracts.layout import ASYNC_INPUT_FOLDER, async_folder
from ml_code.contract import CONTENT_TYPE_JSON
from ml_code.serving import client as serving_client

if TYPE_CHECKING:  # the boto3 stubs are a development requirement only
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sagemaker_runtime import SageMakerRuntimeClient


@dataclass(frozen=True)
class InvokeResult:
    """One response: HTTP status, body, content type and the round trip in milliseconds."""

    status: int
    body: bytes
    content_type: str
    latency_ms: float


Invoker = Callable[[bytes, str], InvokeResult]


class InvokeError(Exception):
    """The model could not be reached (connection refused, no such endpoint, timeout)."""


def url_invoker(url: str, timeout: float = 30.0) -> Invoker:
    """``POST <url>/invocations`` on a model server (``make serve``, or any SageMaker container)."""

    def invoke(body: bytes, content_type: str) -> InvokeResult:
        start = time.perf_counter()
        try:
            reply = serving_client.invoke(url, body, content_type, CONTENT_TYPE_JSON, timeout)
        except OSError as exc:
            raise InvokeError(f"{url}: {exc}") from None
        elapsed = (time.perf_counter() - start) * 1000
        return InvokeResult(reply.status, reply.body, reply.content_type, elapsed)

    return invoke


def endpoint_invoker(runtime: SageMakerRuntimeClient, endpoint_name: str) -> Invoker:
    """``InvokeEndpoint`` through a boto3 ``sagemaker-runtime`` client.

    A ``ModelError`` (the container answered 4xx/5xx) becomes a result with the container's own
    status; any other client error (no such endpoint, throttling, access denied) is an InvokeError.
    """

    def invoke(body: bytes, content_type: str) -> InvokeResult:
        start = time.perf_counter()
        try:
            reply = runtime.invoke_endpoint(
                EndpointName=endpoint_name, Body=body, ContentType=content_type, Accept=CONTENT_TYPE_JSON
            )
            payload: bytes = reply["Body"].read()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("OriginalStatusCode")
            if error.get("Code") == "ModelError" and isinstance(status, int):
                elapsed = (time.perf_counter() - start) * 1000
                message = str(exc.response.get("OriginalMessage", error.get("Message", "")))
                return InvokeResult(status, message.encode("utf-8"), "text/plain", elapsed)
            raise InvokeError(
                f"endpoint {endpoint_name}: {error.get('Code')}: {error.get('Message')}"
            ) from None
        except BotoCoreError as exc:
            raise InvokeError(f"endpoint {endpoint_name}: {exc}") from None
        elapsed = (time.perf_counter() - start) * 1000
        status_code = int(reply.get("ResponseMetadata", {}).get("HTTPStatusCode", 200))
        return InvokeResult(status_code, payload, str(reply.get("ContentType", "")), elapsed)

    return invoke


def async_input_prefix(sagemaker: SageMakerClient, endpoint_name: str) -> str | None:
    """Where callers of an async endpoint put their requests, ``s3://<bucket>/async-inference/<endpoint>/input/``
    (the bucket of its config's S3OutputPath); None for a real-time endpoint, or when the endpoint
    cannot be described (the caller then invokes it in real time, as before async existed).
    """
    try:
        config_name = sagemaker.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
        config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    except (BotoCoreError, ClientError):
        return None
    output = config.get("AsyncInferenceConfig", {}).get("OutputConfig", {}).get("S3OutputPath")
    if not output:
        return None
    bucket = output.removeprefix("s3://").partition("/")[0]
    return f"s3://{bucket}/{async_folder(endpoint_name, ASYNC_INPUT_FOLDER)}"


@dataclass(frozen=True)
class AsyncWait:
    """How long to wait for an async result (an endpoint scaled to zero first starts an instance:
    minutes on AWS), and how often to look (doubling from ``first`` up to ``longest`` seconds)."""

    timeout: float = 900.0
    first: float = 0.05
    longest: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def async_invoker(
    runtime: SageMakerRuntimeClient, s3: S3Client, endpoint_name: str, input_prefix: str,
    wait: AsyncWait | None = None,
) -> Invoker:  # fmt: skip
    """``InvokeEndpointAsync``: upload the body under ``input_prefix``, invoke, then poll the
    answer's OutputLocation and FailureLocation. A result is a 200; a failure object a 500 whose
    body names it and holds its text (the container's error answer). Raises InvokeError when the
    request cannot be put or sent, or no result shows within ``wait.timeout``.
    """
    wait = wait or AsyncWait()

    def invoke(body: bytes, content_type: str) -> InvokeResult:
        start = wait.clock()
        location = f"{input_prefix}{uuid.uuid4().hex}"
        bucket, _, key = location.removeprefix("s3://").partition("/")
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
            reply = runtime.invoke_endpoint_async(
                EndpointName=endpoint_name, InputLocation=location, ContentType=content_type,
                Accept=CONTENT_TYPE_JSON,
            )  # fmt: skip
        except (BotoCoreError, ClientError) as exc:
            raise InvokeError(f"async endpoint {endpoint_name}: {exc}") from None
        output, failure = reply["OutputLocation"], reply.get("FailureLocation", "")
        found = _poll(s3, output, failure, wait, start)
        if found is None:
            raise InvokeError(
                f"async endpoint {endpoint_name}: no result at {output} or {failure} after "
                f"{wait.timeout:g} s (inference {reply.get('InferenceId')})"
            )
        return found

    return invoke


def _poll(s3: S3Client, output: str, failure: str, wait: AsyncWait, start: float) -> InvokeResult | None:
    """The output (200) or failure (500, its body prefixed with where it is) once either exists;
    None after ``wait.timeout`` seconds from ``start``."""
    delay = wait.first
    while True:
        found = _read_if_there(s3, output)
        if found is not None:
            return InvokeResult(200, found[0], found[1], (wait.clock() - start) * 1000)
        failed = _read_if_there(s3, failure) if failure else None
        if failed is not None:
            body = f"failed ({failure}): ".encode() + failed[0]
            return InvokeResult(500, body, failed[1], (wait.clock() - start) * 1000)
        if wait.clock() - start > wait.timeout:
            return None
        wait.sleep(delay)
        delay = min(delay * 2, wait.longest)


def _read_if_there(s3: S3Client, uri: str) -> tuple[bytes, str] | None:
    """The object's body and content type; None while it does not exist (InvokeError otherwise)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        found = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None
        raise InvokeError(f"cannot read {uri}: {exc}") from None
    except BotoCoreError as exc:
        raise InvokeError(f"cannot read {uri}: {exc}") from None
    return found["Body"].read(), str(found.get("ContentType", ""))
