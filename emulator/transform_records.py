"""A batch transform job's records, as SageMaker cuts, batches, filters and joins them (CSV).

The rules of CreateTransformJob and "Associate Prediction Results with Input Records" (SageMaker
docs), for the CSV forms the batch scoring pipeline uses:

- ``SplitType Line``: one record per line (a last line without newline is a record too; an
  empty line is not sent); ``None``: the whole object is one record;
- ``BatchStrategy MultiRecord``: as many whole records per request as fit in ``MaxPayloadInMB``
  (MiB; 0: no limit); ``SingleRecord``: one per request. A record larger than the limit fails
  the job, naming it;
- ``InputFilter`` picks the cells the model gets; ``JoinSource Input`` puts the *original*
  record (unfiltered) before the model's answer, ``<input>,<output>``; ``OutputFilter`` then
  picks cells of that joined record.

Filters are JSONPath over a CSV record's cells: ``$`` (all), ``$[i]``, ``$[i,j,...]``, ``$[i:]``,
``$[i:j]``, ``$[:j]`` and lists mixing them (``$[0,-2:]``); negative indexes count from the end.
Anything else (``$.features``, JSON records) raises :class:`TransformRecordError`, named.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Final

MIB: Final = 1024 * 1024
_ITEM = re.compile(r"^\s*(-?\d+)?\s*(:)?\s*(-?\d+)?\s*$")

Selector = Callable[[list[str]], list[str]]


class TransformRecordError(ValueError):
    """A filter, split or batch setting the local run cannot honour, or a record that breaks one."""


def parse_filter(expression: str | None, what: str) -> Selector | None:
    """The cells ``expression`` selects, as a function of a record's cells (None: ``$``, all).

    Raises:
        TransformRecordError: not one of the supported CSV forms (``what`` names the field).
    """
    text = (expression or "$").strip()
    if text == "$":
        return None
    if not (text.startswith("$[") and text.endswith("]")) or len(text) == 3:
        raise _unsupported(expression, what)
    items = []
    for part in text[2:-1].split(","):
        match = _ITEM.match(part)
        if match is None or not part.strip():
            raise _unsupported(expression, what)
        start, colon, stop = match.groups()
        if not colon and (start is None or stop is not None):
            raise _unsupported(expression, what)
        items.append((int(start) if start else None, bool(colon), int(stop) if stop else None))

    def select(cells: list[str]) -> list[str]:
        chosen: list[str] = []
        for start, is_slice, stop in items:
            if is_slice:
                chosen += cells[start:stop]
            elif start is not None and -len(cells) <= start < len(cells):
                chosen.append(cells[start])
            else:
                raise TransformRecordError(
                    f"{what} {expression!r}: no cell {start} in a record of {len(cells)}"
                )
        return chosen

    return select


def _unsupported(expression: str | None, what: str) -> TransformRecordError:
    return TransformRecordError(
        f"{what} {expression!r} cannot run locally: only the CSV forms $, $[i], $[i,j,...], $[i:], "
        "$[i:j] and lists of them ($[0,-2:]) are supported"
    )


def cells(record: str) -> list[str]:
    """A CSV record's cells (quotes honoured)."""
    return next(csv.reader([record]), [])


def join_cells(values: Sequence[str]) -> str:
    """Cells back into one CSV record (quoted only where needed)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue()


def apply(selector: Selector | None, record: str) -> str:
    """``record`` filtered by ``selector`` (unchanged for ``$``)."""
    return record if selector is None else join_cells(selector(cells(record)))


def split_records(body: str, split_type: str) -> list[str]:
    """An object's records (see the module doc); raises TransformRecordError for another SplitType."""
    if split_type == "None":
        return [body] if body else []
    if split_type != "Line":
        raise TransformRecordError(f"SplitType {split_type!r} cannot run locally (only Line and None)")
    return [line for line in body.splitlines() if line]


def batches(records: Sequence[str], strategy: str, max_payload_mb: int, where: str) -> Iterator[list[int]]:
    """Indexes of the records in each request, in order, each request within ``max_payload_mb``.

    Raises:
        TransformRecordError: a record alone is larger than the limit (``where`` names the object).
    """
    limit = max_payload_mb * MIB if max_payload_mb else None
    current: list[int] = []
    size = 0
    for index, record in enumerate(records):
        length = len(record.encode("utf-8")) + 1
        if limit is not None and length > limit:
            raise TransformRecordError(
                f"record {index + 1} of {where} is {length} bytes, "
                f"larger than MaxPayloadInMB={max_payload_mb}"
            )
        if current and (strategy == "SingleRecord" or (limit is not None and size + length > limit)):
            yield current
            current, size = [], 0
        current.append(index)
        size += length
    if current:
        yield current
