"""SageMaker data-capture files: one JSON line per request, in the layout endpoints write.

An endpoint with data capture writes ``<prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl``;
each line holds the request (``endpointInput``) and response (``endpointOutput``) with their
content types and encodings, plus ``eventMetadata.inferenceTime``. The local server writes the
same format, and the drift check reads it back, so the offline loop reads what SageMaker writes.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final

from ml_code.contract import CAPTURE_FILE_SUFFIX, CONTENT_TYPE_CSV, CONTENT_TYPE_JSON, CONTENT_TYPE_JSONLINES
from ml_code.payload_codec import media_type

#: datetime.UTC is Python 3.11+; the framework container may run an older Python.
UTC: Final = timezone.utc  # noqa: UP017
VARIANT: Final = "AllTraffic"
_TEXT_ENCODINGS: Final = {CONTENT_TYPE_CSV: "CSV", CONTENT_TYPE_JSON: "JSON", CONTENT_TYPE_JSONLINES: "JSON"}


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
        return {"observedContentType": content_type, "mode": mode, "data": base64.b64encode(body).decode(),
                "encoding": "BASE64"}  # fmt: skip
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": str(encoding)}


def capture_line(
    request: bytes, request_type: str, response: bytes, response_type: str, when: datetime
) -> str:
    """One capture record as SageMaker writes it (no trailing newline)."""
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
    """Appends capture lines under ``root/<endpoint>/AllTraffic/yyyy/mm/dd/hh/`` (thread-safe)."""

    def __init__(self, root: Path, endpoint_name: str) -> None:
        self._base = root / endpoint_name / VARIANT
        self._lock = threading.Lock()
        self._file_stem = uuid.uuid4().hex

    def write(self, request: bytes, request_type: str, response: bytes, response_type: str) -> Path:
        """Record one request/response pair now; return the file it went to."""
        when = datetime.now(UTC)
        line = capture_line(request, request_type, response, response_type, when)
        target = self._base / when.strftime("%Y/%m/%d/%H") / f"{self._file_stem}{CAPTURE_FILE_SUFFIX}"
        with self._lock:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        return target


def read_requests(root: Path) -> Iterator[CapturedRequest | None]:
    """Every captured request under ``root`` (any depth), oldest file first; None for a bad line."""
    for path in sorted(root.rglob(f"*{CAPTURE_FILE_SUFFIX}")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield _parse(line)


def _parse(line: str) -> CapturedRequest | None:
    try:
        record: Any = json.loads(line)
        side = record["captureData"]["endpointInput"]
        data = side["data"]
        if side.get("encoding") == "BASE64":
            data = base64.b64decode(data).decode("utf-8")
        when = datetime.strptime(record["eventMetadata"]["inferenceTime"][:19], "%Y-%m-%dT%H:%M:%S")
        return CapturedRequest(
            data=data, content_type=side["observedContentType"], inference_time=when.replace(tzinfo=UTC)
        )
    except (KeyError, TypeError, ValueError):
        return None
