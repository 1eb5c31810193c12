"""How the smoke test reaches a model: a SageMaker endpoint, or a model server's HTTP URL.

An :data:`Invoker` takes one request body and its content type and returns an
:class:`InvokeResult` (status, body, content type, client-side latency). Both kinds report a
model's 4xx/5xx as a result rather than an exception, so the smoke test can name it; they raise
:class:`InvokeError` only when the model cannot be reached at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from ml_code.contract import CONTENT_TYPE_JSON
from ml_code.serving import client as serving_client

if TYPE_CHECKING:  # the boto3 stubs are a development requirement only
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
