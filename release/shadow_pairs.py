"""Shadow-test captures read back and paired: each shadow record with the production one it copies.

With data capture on, an endpoint with a shadow variant writes each variant's records under its
own folder, ``data-capture/<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl``, one JSON line per
request (``captureData.endpointInput`` / ``endpointOutput``, ``eventMetadata.eventId`` and
``inferenceTime``; ``inferenceId`` when the caller sent one). SageMaker's documentation does not
say whether the two records of one replicated request share an ``eventId``, so :func:`pair` does
not rely on it: a shared ``eventId`` (or caller ``inferenceId``) pairs first, and what is left is
paired by identical input payload and the nearest inference time (each production record used at
most once, at most :data:`MAX_SKEW` apart). The report says how many pairs each way found.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from contracts.prediction_schema import prediction_kind

#: The longest a shadow copy may trail (or lead) its production record and still pair by payload.
MAX_SKEW: Final = timedelta(minutes=5)


@dataclass(frozen=True)
class Record:
    """One captured request of one variant: its ids, time, input and parsed predictions."""

    event_id: str
    inference_id: str | None
    time: datetime
    data: str
    predictions: tuple[Prediction, ...]


@dataclass(frozen=True)
class Prediction:
    """One predicted row: the label (None for regression) and the score the distance is taken on
    (binary: the probability; multiclass: the predicted label's; regression: the score)."""

    label: str | None
    score: float


@dataclass
class Pairing:
    """Shadow records matched with production ones, and how each was matched."""

    pairs: list[tuple[Record, Record]] = field(default_factory=list)
    by_id: int = 0
    by_payload: int = 0
    unmatched_shadow: int = 0


def _text(side: dict[str, Any]) -> str:
    data = side["data"]
    if side.get("encoding") == "BASE64":
        return base64.b64decode(data, validate=True).decode("utf-8")
    return str(data)


def _prediction(row: Any) -> Prediction | None:
    kind = prediction_kind(row)
    if kind == "regression":
        return Prediction(None, float(row["score"]))
    if kind == "binary":
        return Prediction(str(row["predicted_label"]), float(row["probability"]))
    if kind == "multiclass":
        label = str(row["predicted_label"])
        return Prediction(label, float(row["probabilities"].get(label, max(row["probabilities"].values()))))
    return None


def _csv_prediction(line: str) -> Prediction | None:
    cells = line.split(",")
    try:
        if len(cells) == 1:
            return Prediction(None, float(cells[0]))
        numbers = [float(c) for c in cells[1:]]
    except ValueError:
        return None
    return Prediction(cells[0], numbers[0] if len(numbers) == 1 else max(numbers))


def predictions(body: str) -> tuple[Prediction, ...]:
    """The rows of one response body: ``{"predictions": [...]}``, JSON lines, or CSV lines
    (``label,probability``, ``label,p1,...,pk`` or ``score``); empty when unreadable."""
    lines = [line for line in body.splitlines() if line.strip()]
    try:
        rows = [json.loads(line) for line in lines]
    except ValueError:
        rows = None
    if rows is None or not all(isinstance(row, dict) for row in rows):
        try:  # one JSON document over several lines, else CSV lines
            document = json.loads(body)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            parsed = [_csv_prediction(line) for line in lines]
            return () if None in parsed else tuple(p for p in parsed if p is not None)
        rows = [document]
    if len(rows) == 1 and isinstance(rows[0].get("predictions"), list):
        rows = rows[0]["predictions"]
    parsed_rows = [_prediction(row) for row in rows]
    return () if None in parsed_rows else tuple(p for p in parsed_rows if p is not None)


def parse_record(line: bytes | str) -> Record | None:
    """One capture line as a :class:`Record`, or None when it is not a readable capture record."""
    try:
        record = json.loads(line)
        meta, capture = record["eventMetadata"], record["captureData"]
        when = datetime.strptime(str(meta["inferenceTime"])[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
        return Record(
            event_id=str(meta.get("eventId", "")),
            inference_id=meta.get("inferenceId"),
            time=when,
            data=_text(capture["endpointInput"]),
            predictions=predictions(_text(capture["endpointOutput"])),
        )
    except (KeyError, TypeError, ValueError):
        return None


def pair(production: Iterable[Record], shadow: Iterable[Record]) -> Pairing:
    """Match each shadow record with its production record (see the module docstring)."""
    result = Pairing()
    unused = list(production)
    by_id = {r.event_id: r for r in unused if r.event_id}
    by_inference = {r.inference_id: r for r in unused if r.inference_id}
    taken: set[int] = set()
    left: list[Record] = []
    for record in shadow:
        match = by_id.get(record.event_id) or (
            by_inference.get(record.inference_id or "") if record.inference_id else None
        )
        if match is not None and id(match) not in taken:
            taken.add(id(match))
            result.pairs.append((match, record))
            result.by_id += 1
        else:
            left.append(record)
    by_payload: dict[str, list[Record]] = defaultdict(list)
    for record in unused:
        if id(record) not in taken:
            by_payload[record.data].append(record)
    for record in left:
        candidates = [r for r in by_payload.get(record.data, []) if abs(r.time - record.time) <= MAX_SKEW]
        if not candidates:
            result.unmatched_shadow += 1
            continue
        nearest = min(candidates, key=lambda r: abs(r.time - record.time))
        by_payload[record.data].remove(nearest)
        result.pairs.append((nearest, record))
        result.by_payload += 1
    return result
