"""uvicorn's HTTP protocol, writing each response with one ``send``.

:class:`OneSendProtocol` is the ``http`` protocol class ml_code.serving.serve configures uvicorn
with; :class:`_HeadWithBody` is the transport wrapper that holds a response's head until its body.
This module needs uvicorn, so it runs on a developer's machine, never in the image.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class _HeadWithBody:
    """A connection's transport, except that a final response's head (status line and headers)
    is held and written together with the next write, its body.

    uvicorn's h11 protocol writes a response as two writes, head then body; with TCP_NODELAY
    each is a ``send`` of its own (two system calls, two packets, and the client woken twice).
    Interim responses (``100 Continue``) are written at once: the client waits for them.
    """

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._head = b""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._head:
            data, self._head = self._head + data, b""
        elif (
            bytes(data[:9]) == b"HTTP/1.1 " and bytes(data[9:10]) != b"1" and bytes(data[-4:]) == b"\r\n\r\n"
        ):
            self._head = bytes(data)
            return
        if data:
            self._transport.write(data)

    def close(self) -> None:
        if self._head:
            self._transport.write(self._head)
            self._head = b""
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneSendProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol (llhttp's C parser; uvicorn's pure-Python h11 parser and state
    machine took as much of a busy worker's time as its socket sends), writing each response with
    one ``send`` (see _HeadWithBody)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(_HeadWithBody(transport))  # type: ignore[arg-type]
