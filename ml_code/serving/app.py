"""The hosting contract as a raw ASGI app: ``GET /ping`` and ``POST /invocations``.

No web framework: one small callable keeps the per-request cost to the handlers
themselves. Requests are read by the serving toolkit's rules (ml_code.serving.hosting: default
Content-Type and Accept, text decoding) and answered by ``inference.respond``, the core the
deployed container's ``transform_fn`` runs, so both give the same status, Content-Type and body.

Differences from the container, on purpose: a body past the invoke API's 6 MB limit gets a
413 here (on AWS the API in front of the container refuses it), answered from Content-Length
(or the running size of a chunked body) and then drained, so a client still sending sees the
answer rather than a reset connection; a prediction that outlives the server timeout gets a
504 (the container's gunicorn kills the worker instead).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from ml_code.contract import CONTENT_TYPE_ERROR, MAX_PAYLOAD_BYTES
from ml_code.errors import PayloadTooLargeError
from ml_code.serving import hosting, inference
from ml_code.serving.capture import CaptureWriter

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

LOG: Final = logging.getLogger("ml_code.serving.serve")
#: Bodies up to this size are handled on the event loop (1 MB, ~12,000 rows of 10 features: about
#: 15 ms of handlers on the benchmark machine); larger ones go to a thread so /ping keeps answering
#: while a big batch is predicted. Handing a 1,000-row body to the thread cost more than it saved:
#: the loop and the thread took turns on the GIL (benchmarks/README.md).
INLINE_BODY_BYTES: Final = 1024 * 1024
#: After an early 413, read and discard up to this much of the rest of the body (then close),
#: so a client that writes its whole body before reading (urllib, http.client) gets the answer.
DRAIN_LIMIT_BYTES: Final = 64 * 1024 * 1024
_TEXT: Final = [(b"content-type", CONTENT_TYPE_ERROR.encode())]


class InvocationsApp:
    """ASGI app serving one loaded model through the four inference handlers."""

    def __init__(
        self,
        model: inference.Model,
        *,
        timeout_seconds: float = 60.0,
        max_body_bytes: int = MAX_PAYLOAD_BYTES,
        threads: int = 2,
        capture: CaptureWriter | None = None,
    ) -> None:
        self.model = model
        #: When set, answered requests are queued for SageMaker's data-capture format (sampled;
        #: written by the writer's own thread, so the response never waits for the disk).
        self.capture = capture
        self.timeout_seconds = timeout_seconds
        self.max_body_bytes = max_body_bytes
        #: Read once: the response type for a request without Accept (or ``*/*``).
        self.default_accept = hosting.default_accept()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="predict")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/invocations":
            if method == "POST":
                await self._invoke(scope, receive, send)
            else:
                await _respond(send, 405, b"use POST /invocations", _TEXT)
        elif path == "/ping":
            # The model is loaded before this app exists, so answering means ready.
            await _respond(send, 200, b"", _TEXT)
        elif path == "/execution-parameters" and method == "GET":
            # Read by SageMaker batch transform to size its requests.
            params = {"MaxConcurrentTransforms": 1, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 6}
            await _respond(send, 200, json.dumps(params).encode(), [(b"content-type", b"application/json")])
        else:
            await _respond(send, 404, f"no route for {method} {path}".encode(), _TEXT)

    async def _invoke(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            raw = await self._read_body(headers.get("content-length"), receive)
        except PayloadTooLargeError as exc:
            await _refuse_then_drain(send, receive, exc.status, str(exc).encode("utf-8"))
            return
        if raw is None:
            return  # the client went away
        content_type = hosting.request_content_type(headers)
        accept = hosting.request_accept(headers, self.default_accept)
        args = (hosting.request_body(raw, content_type), content_type, accept)
        try:
            if len(raw) <= INLINE_BODY_BYTES:
                reply = self.handle(*args)
            else:
                future = asyncio.get_running_loop().run_in_executor(self._pool, self.handle, *args)
                reply = await asyncio.wait_for(future, self.timeout_seconds)
        except asyncio.TimeoutError:  # the builtin TimeoutError only from Python 3.11 (the image runs 3.10)
            LOG.error("prediction exceeded %.0f s; answered 504", self.timeout_seconds)
            message = f"prediction took longer than {self.timeout_seconds:g} s"
            await _respond(send, 504, message.encode(), _TEXT)
            return
        await _respond(
            send, reply.status, reply.body, [(b"content-type", reply.content_type.encode("latin-1"))]
        )
        if self.capture is not None and reply.status == 200:
            self.capture.write(raw, content_type, reply.body, reply.content_type)

    def handle(self, body: bytes | str, content_type: str, accept: str) -> inference.Reply:
        """What one request runs: the deployed container's core (never raises)."""
        return inference.respond(self.model, body, content_type, accept)

    async def _read_body(self, content_length: str | None, receive: Receive) -> bytes | None:
        """The request body, or None on disconnect; raises PayloadTooLargeError past the limit."""
        if (
            content_length is not None
            and content_length.isdigit()
            and int(content_length) > self.max_body_bytes
        ):
            raise self._too_large(int(content_length))
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:  # chunked uploads announce no length
                raise self._too_large(size, at_least=True)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self, size: int, *, at_least: bool = False) -> PayloadTooLargeError:
        more = "more than " if at_least else ""
        return PayloadTooLargeError(
            f"request body is {more}{size} bytes; the limit is {self.max_body_bytes} bytes "
            "(SageMaker real-time endpoints accept at most 6 MB)"
        )

    def close(self) -> None:
        """Stop the prediction threads; flush and stop data capture."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self.capture is not None:
            self.capture.close()


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [*headers, (b"content-length", str(len(body)).encode())],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})


async def _refuse_then_drain(send: Send, receive: Receive, status: int, body: bytes) -> None:
    """Answer before the body is read, but end the response only after reading the rest of it.

    A client that writes its whole body before reading (urllib, http.client) would otherwise
    find the connection reset: uvicorn closes a ``Connection: close`` request's socket when the
    response ends, and unread bytes make the kernel send RST. The answer goes out at once (a
    client that reads early, like curl, sees it); the rest of the body is read and dropped, up
    to DRAIN_LIMIT_BYTES, and only then does the response end.
    """
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [*_TEXT, (b"content-length", str(len(body)).encode())],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body, "more_body": True})
    drained = 0
    while drained <= DRAIN_LIMIT_BYTES:
        message = await receive()
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            break
        drained += len(message.get("body", b""))
    await send({"type": "http.response.body", "body": b""})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
