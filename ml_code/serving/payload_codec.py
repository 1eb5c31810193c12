"""Request bodies to raw rows, prediction records to response bodies (stdlib only).

The wire formats are documented in ml_code/serving/inference.py, whose handlers call this module.
Everything here is model-agnostic: checking rows against the model's features (column
count, names, numbers) happens in FeatureTransformer.transform_rows.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Sequence
from typing import Any, Final

from ml_code.contract import (
    CONTENT_TYPE_CSV,
    CONTENT_TYPE_JSON,
    CONTENT_TYPE_JSONLINES,
    SUPPORTED_CONTENT_TYPES,
)
from ml_code.errors import PayloadError, UnsupportedAcceptError, UnsupportedContentTypeError

CSV: Final = CONTENT_TYPE_CSV
JSON: Final = CONTENT_TYPE_JSON
JSONLINES: Final = CONTENT_TYPE_JSONLINES
_SCALARS: Final = frozenset({str, int, float, bool, type(None)})
#: JSON integers beyond float range cannot be features (float() would overflow).
_MAX_INT: Final = 2**1023
_SUPPORTED_TEXT: Final = ", ".join(SUPPORTED_CONTENT_TYPES)

Row = list[Any] | dict[str, Any]

__all__ = ["CSV", "JSON", "JSONLINES", "Payload", "PayloadError", "decode", "encode", "negotiate"]


class Payload:
    """Parsed request: raw rows (lists in feature order or objects by name) and their format.

    A CSV body is kept as ``text`` and split into ``rows`` only when they are asked for: the
    serving path first offers the text to the model's column-wise reader (ml_code/serving/csv_columns.py),
    which skips building a Python list per row. Raises PayloadError (from ``rows``) for CSV the
    csv module cannot read.
    """

    __slots__ = ("_rows", "content_type", "text")

    def __init__(self, rows: list[Row] | None, content_type: str, text: str | None = None) -> None:
        if rows is None and text is None:
            raise ValueError("a Payload needs rows or the CSV text to read them from")
        self._rows = rows
        self.content_type = content_type
        self.text = text

    @property
    def rows(self) -> list[Row]:
        if self._rows is None:
            assert self.text is not None  # __init__ requires one of them
            self._rows = _csv_rows(self.text)
        return self._rows


def media_type(header: str | None) -> str:
    """``text/csv; charset=utf-8`` -> ``text/csv``."""
    return (header or "").split(";", 1)[0].strip().lower()


def decode(body: bytes | str, content_type: str | None) -> Payload:
    """Parse ``body``; raises UnsupportedContentTypeError (415) or PayloadError (400)."""
    kind = media_type(content_type)
    if kind not in SUPPORTED_CONTENT_TYPES:
        raise UnsupportedContentTypeError(
            f"unsupported Content-Type {content_type!r}; send one of: {_SUPPORTED_TEXT}"
        )
    if isinstance(body, bytes | bytearray | memoryview):
        try:
            text = bytes(body).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PayloadError(f"body is not valid UTF-8 (byte {exc.start}: {exc.reason})") from None
    else:
        text = body.removeprefix("\ufeff")
    if not text or text.isspace():  # not text.strip(), without copying a large body
        raise PayloadError("empty body: send at least one row")
    if kind == CSV:
        return Payload(None, kind, text)
    if kind == JSON:
        rows = _json_rows(_load_json(text, "JSON body"))
    else:
        rows = [_jsonlines_row(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    return Payload(rows=rows, content_type=kind)


def _csv_rows(text: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows: list[Row] = [row for row in reader if row]  # blank lines separate nothing
    except csv.Error as exc:
        raise PayloadError(f"malformed CSV at line {reader.line_num}: {exc}") from None
    if not rows:
        raise PayloadError("empty body: send at least one row")
    return rows


def _load_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(
            f"malformed {what} at line {exc.lineno} column {exc.colno} (char {exc.pos}): {exc.msg}"
        ) from None
    except (ValueError, RecursionError) as exc:  # e.g. a 5000-digit integer, 10k nested lists
        raise PayloadError(f"unusable {what}: {type(exc).__name__}: {str(exc)[:200]}") from None


def _json_rows(doc: Any) -> list[Row]:
    """Accepts {"instances": [rows]}, [rows], a single list row or a single object row."""
    if isinstance(doc, dict):
        if len(doc) == 1 and isinstance(doc.get("instances"), list):
            rows = doc["instances"]
            if not rows:
                raise PayloadError('"instances" is empty: send at least one row')
            return [_checked_row(i, row, f"instances[{i}]") for i, row in enumerate(rows)]
        return [_checked_row(0, doc, "the JSON object")]
    if isinstance(doc, list):
        if not doc:
            raise PayloadError("the JSON list is empty: send at least one row")
        if all(type(v) in _SCALARS for v in doc):
            return [_checked_row(0, doc, "the JSON list")]  # a single list row
        return [_checked_row(i, row, f"element {i}") for i, row in enumerate(doc)]
    raise PayloadError(
        f'JSON body must be {{"instances": [...]}}, a list or an object; got {type(doc).__name__}'
    )


def _jsonlines_row(line_no: int, line: str) -> Row:
    return _checked_row(line_no - 1, _load_json(line, f"JSON on line {line_no}"), f"line {line_no}")


def _checked_row(index: int, row: Any, where: str) -> Row:
    """A list or object of scalar values; raises PayloadError naming the row and the value."""
    if isinstance(row, list):
        for col, value in enumerate(row):
            _check_value(value, f"row {index} ({where}), column {col}")
        return row
    if isinstance(row, dict):
        for key, value in row.items():
            _check_value(value, f"row {index} ({where}), key {key!r}")
        return row
    raise PayloadError(f"row {index} ({where}): expected a list or an object, got {type(row).__name__}")


def _check_value(value: Any, where: str) -> None:
    kind = type(value)
    if kind not in _SCALARS:
        raise PayloadError(f"{where}: expected a scalar value, got {kind.__name__}")
    if kind is int and not -_MAX_INT < value < _MAX_INT:
        raise PayloadError(f"{where}: the integer is too large to be a number feature")


def negotiate(accept: str | None, default: str) -> str:
    """The response content type for an Accept header (q-values honoured, ``*/*`` -> ``default``).

    Raises UnsupportedAcceptError (406) when no listed type can be produced.
    """
    if not accept or not accept.strip():
        return default
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        media, *params = part.split(";")
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, media.strip().lower()))
    for _, _, media in sorted(ranked):
        if media in SUPPORTED_CONTENT_TYPES:
            return media
        if media == "*/*":
            return default
        if media == "application/*":
            return default if default.startswith("application/") else JSON
        if media == "text/*":
            return CSV
    raise UnsupportedAcceptError(f"cannot produce Accept {accept!r}; supported: {_SUPPORTED_TEXT}")


def csv_cells(values: Sequence[Any]) -> list[str]:
    """Each value as one CSV cell (quoted when it holds a comma, quote or newline)."""
    return list(_csv_cells(tuple(values)))


@functools.lru_cache(maxsize=64)  # a model's labels: the same few tuples on every request
def _csv_cells(values: tuple[Any, ...]) -> tuple[str, ...]:
    cells = []
    for value in values:
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow([value])
        cells.append(out.getvalue())
    return tuple(cells)


def encode(records: Sequence[dict[str, Any]], content_type: str) -> bytes:
    """Serialize prediction records as JSON, JSON lines or header-less CSV."""
    if content_type == JSON:
        return json.dumps({"predictions": records}, separators=(",", ":")).encode("utf-8")
    if content_type == JSONLINES:
        return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records).encode("utf-8")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for record in records:
        probabilities = record.get("probabilities")
        if probabilities is not None:
            writer.writerow([record["predicted_label"], *probabilities.values()])
        else:
            writer.writerow(list(record.values()))
    return out.getvalue().encode("utf-8")
