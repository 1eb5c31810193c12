"""make serve writes each response with one send: the head is held until its body is written."""

from __future__ import annotations

from typing import Any

from ml_code.serving.serve import _HeadWithBody


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
