"""make serve writes each response with one send: the head is held until its body is written."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.server import ServerState

from ml_code.serving.serve import OneSendProtocol, _HeadWithBody
from ml_code.serving.uvicorn_app import uvicorn_config


class Recorder:
    """A transport that records what is written and whether it was closed."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return f"extra {name}"


HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\ncontent-length: 4\r\n\r\n"


def test_head_and_body_go_out_in_one_write() -> None:
    transport = Recorder()
    wrapped = _HeadWithBody(transport)  # type: ignore[arg-type]
    wrapped.write(HEAD)
    assert transport.writes == []
    wrapped.write(b"0,1\n")
    wrapped.write(b"")  # h11's end of a Content-Length message
    assert transport.writes == [HEAD + b"0,1\n"]


def test_interim_responses_are_not_held() -> None:
    # a client waiting for 100 Continue before sending its body must get it at once
    transport = Recorder()
    _HeadWithBody(transport).write(b"HTTP/1.1 100 Continue\r\n\r\n")  # type: ignore[arg-type]
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]


def test_closing_sends_a_held_head_first() -> None:
    transport = Recorder()
    wrapped = _HeadWithBody(transport)  # type: ignore[arg-type]
    wrapped.write(HEAD)
    wrapped.close()
    assert transport.writes == [HEAD]
    assert transport.closed


def test_everything_else_is_the_transports() -> None:
    wrapped = _HeadWithBody(Recorder())  # type: ignore[arg-type]
    assert wrapped.get_extra_info("peername") == "extra peername"


class WireTransport(Recorder):
    """Recorder with what uvicorn's protocols ask of a socket transport."""

    def __init__(self) -> None:
        super().__init__()
        self.closing = False

    def get_extra_info(self, name: str) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8080)}.get(name)

    def is_closing(self) -> bool:
        return self.closing

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def set_protocol(self, protocol: Any) -> None: ...


def test_the_served_protocol_writes_a_whole_response_in_one_write() -> None:
    # GIVEN the protocol make serve runs (make serve's own config), on a recording transport
    async def ping(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"4")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"pong"})

    async def exchange() -> list[bytes]:
        config = uvicorn_config(ping)  # type: ignore[arg-type]
        config.load()
        transport = WireTransport()
        assert config.http_protocol_class is OneSendProtocol
        protocol = OneSendProtocol(config=config, server_state=ServerState(), app_state={})
        protocol.connection_made(transport)  # type: ignore[arg-type]
        # WHEN a keep-alive request arrives
        protocol.data_received(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        for _ in range(20):
            await asyncio.sleep(0)
        return transport.writes

    writes = asyncio.run(exchange())
    # THEN head and body leave in one write (one send on the socket)
    assert len(writes) == 1, writes
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert writes[0].endswith(b"\r\n\r\npong")
