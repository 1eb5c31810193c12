"""SageMaker data-capture files: one JSON line per request, in the layout endpoints write.

An endpoint with data capture writes ``<prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl``;
each line holds the request (``endpointInput``) and response (``endpointOutput``) with their
content types and encodings, plus ``eventMetadata.inferenceTime``. The local server writes the
same format (:class:`CaptureWriter`) and the drift check reads it back (:func:`read_requests`),
so the offline loop reads what SageMaker writes.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import queue
import random
import threading
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Final

from ml_code.contract import CAPTURE_FILE_SUFFIX, CONTENT_TYPE_CSV, CONTENT_TYPE_JSON, CONTENT_TYPE_JSONLINES
from ml_code.serving.payload_codec import media_type

#: datetime.UTC is Python 3.11+; the framework container runs Python 3.10.
UTC: Final = timezone.utc
VARIANT: Final = "AllTraffic"
LOG: Final = logging.getLogger("ml_code.serving.capture")
_TEXT_ENCODINGS: Final = {CONTENT_TYPE_CSV: "CSV", CONTENT_TYPE_JSON: "JSON", CONTENT_TYPE_JSONLINES: "JSON"}
_STOP: Final = object()
_WRITERS: weakref.WeakSet[CaptureWriter] = weakref.WeakSet()


@dataclass(frozen=True)
class CapturedRequest:
    """One captured request body, its content type and when it was served."""

    data: str
    content_type: str
    inference_time: datetime


def _side(body: bytes, content_type: str, mode: str) -> dict[str, str]:
    encoding = _TEXT_ENCODINGS.get(media_type(content_type))
    try:
        data = body.decode("utf-8") if encoding else None
    except UnicodeDecodeError:
        data = None
    if data is None:
        encoding, data = "BASE64", base64.b64encode(body).decode("ascii")
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": str(encoding)}


def capture_line(
    request: bytes, request_type: str, response: bytes, response_type: str, when: datetime
) -> str:
    """One capture record as SageMaker writes it (no trailing newline); text bodies of CSV/JSON
    types are stored as text, anything else (or invalid UTF-8) as BASE64."""
    record = {
        "captureData": {
            "endpointInput": _side(request, request_type, "INPUT"),
            "endpointOutput": _side(response, response_type, "OUTPUT"),
        },
        "eventMetadata": {"eventId": str(uuid.uuid4()), "inferenceTime": when.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "eventVersion": "0",
    }
    return json.dumps(record, separators=(",", ":"))


class CaptureWriter:
    """Records request/response pairs under ``root/<endpoint>/<variant>/yyyy/mm/dd/hh/<id>.jsonl``.

    :meth:`write` samples (``sampling_percent`` of calls are kept, like the endpoint config's
    InitialSamplingPercentage) and only queues: a background thread renders and appends the
    lines, flushing after every batch, so serving never waits on the disk. :meth:`flush` waits
    for what is queued; :meth:`close` flushes and stops the thread. Raises ValueError for a
    sampling percent outside [0, 100].
    """

    def __init__(self, root: Path, endpoint_name: str, *, sampling_percent: float = 100.0,
                 variant: str = VARIANT, seed: int | None = None) -> None:  # fmt: skip
        if not 0 <= sampling_percent <= 100:
            raise ValueError(f"capture sampling percent must be in [0, 100], got {sampling_percent}")
        self.base = root / endpoint_name / variant
        self.sampling_percent = sampling_percent
        self._random = random.Random(seed)  # noqa: S311 - sampling traffic, not security
        self._file_name = f"{uuid.uuid4().hex}{CAPTURE_FILE_SUFFIX}"
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._closed = False
        self._path: Path | None = None  # the open capture file (the writer thread's only)
        self._handle: IO[str] | None = None
        self._thread = threading.Thread(target=self._drain, name="data-capture", daemon=True)
        self._thread.start()
        _WRITERS.add(self)

    def write(self, request: bytes, request_type: str, response: bytes, response_type: str) -> bool:
        """Queue one pair at the current time if sampled in; returns whether it was kept."""
        if self._closed:
            return False
        if self.sampling_percent < 100 and self._random.random() * 100 >= self.sampling_percent:
            return False
        self._queue.put((request, request_type, response, response_type, datetime.now(UTC)))
        return True

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every pair queued so far is on disk; False if that took over ``timeout``."""
        if not self._thread.is_alive():
            return True
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Flush, then stop the writer thread (idempotent; later writes are dropped)."""
        self._closed = True
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    def _drain(self) -> None:
        """Writer thread: append each batch, flush, then answer waiting flushes; stop on _STOP."""
        while True:
            batch = [self._queue.get()]
            while not self._queue.empty() and len(batch) < 1000:
                batch.append(self._queue.get())
            for item in batch:
                if isinstance(item, tuple):
                    self._append(*item)
            if self._handle is not None:
                self._handle.flush()
            for item in batch:
                if isinstance(item, threading.Event):
                    item.set()
            if any(item is _STOP for item in batch):
                if self._handle is not None:
                    self._handle.close()
                return

    def _append(self, request: bytes, request_type: str, response: bytes, response_type: str,
                when: datetime) -> None:  # fmt: skip
        target = self.base / when.strftime("%Y/%m/%d/%H") / self._file_name
        try:
            if target != self._path or self._handle is None:
                if self._handle is not None:
                    self._handle.close()
                target.parent.mkdir(parents=True, exist_ok=True)
                self._handle, self._path = target.open("a", encoding="utf-8"), target
            self._handle.write(capture_line(request, request_type, response, response_type, when) + "\n")
        except OSError:
            LOG.exception("data capture: cannot write %s; the request is not captured", target)
            if self._handle is not None:
                with contextlib.suppress(OSError):
                    self._handle.close()
            self._handle = self._path = None


def flush_all(timeout: float = 10.0) -> bool:
    """Flush every open writer of this process (e.g. before uploading the capture); True if all did."""
    return all([writer.flush(timeout) for writer in list(_WRITERS)])


def read_lines(root: Path) -> Iterator[tuple[Path, int, CapturedRequest | None]]:
    """(file, line number, request) of every non-blank line under ``root`` (any depth), files in
    path order (so by hour); the request is None when the line is not a readable capture record
    with an input."""
    for path in sorted(root.rglob(f"*{CAPTURE_FILE_SUFFIX}")):
        with path.open("rb") as lines:
            for line_no, raw in enumerate(lines, 1):
                if raw.strip():
                    yield path, line_no, _parse(raw)


def read_requests(root: Path) -> Iterator[CapturedRequest | None]:
    """Every captured request under ``root``, as :func:`read_lines` (None for a bad line)."""
    return (request for _, _, request in read_lines(root))


def _parse(raw: bytes) -> CapturedRequest | None:
    try:
        record: Any = json.loads(raw.decode("utf-8"))
        side = record["captureData"]["endpointInput"]
        data = side["data"]
        if side.get("encoding") == "BASE64":
            data = base64.b64decode(data, validate=True).decode("utf-8")
        when = datetime.strptime(record["eventMetadata"]["inferenceTime"][:19], "%Y-%m-%dT%H:%M:%S")
        if not isinstance(data, str):
            return None
        return CapturedRequest(data=data, content_type=str(side["observedContentType"]),
                               inference_time=when.replace(tzinfo=UTC))  # fmt: skip
    except (KeyError, TypeError, ValueError):  # UnicodeDecodeError and binascii.Error are ValueErrors
        return None
