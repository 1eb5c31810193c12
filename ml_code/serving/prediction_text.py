"""Response bodies for class probabilities, written for the whole batch at once with numpy.

The reference encoders in ml_code/serving/inference.py write each record with ``repr`` of the
probability rounded to 7 decimals (``np.round(p, 7)``), through an f-string or ``json.dumps``:
about 0.5 ms (CSV) and 1 ms (JSON) per 1,000 rows on the benchmark machine. This module
produces the same bytes from byte matrices: each row is a few fixed-width segments (constant
text, the label's text from a small table, the probability's digits) with a mask of the
bytes to keep, and the body is the masked matrix read row by row.

Why the digits are repr's: ``np.round(p, 7)`` is ``rint(p * 1e7) / 1e7``, the double nearest to
k / 10**7 for the integer k = rint(p * 1e7). For 1,000 <= k <= 10**7 (probabilities from 1e-4
up) that decimal has at most 8 significant digits, and no other decimal that short lies within
half an ulp of it, so ``repr`` prints exactly ``0.`` + the 7 digits of k without trailing zeros
(``1.0`` for k = 10**7, ``0.0`` for k = 0). Anything else (k between 1 and 999, which repr
writes in exponent notation, or a value that is not a probability) returns None and the
caller uses the reference encoder. tests/unit/test_prediction_text.py compares both.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from ml_code.contract import CONTENT_TYPE_CSV, CONTENT_TYPE_JSON, CONTENT_TYPE_JSONLINES
from ml_code.serving.payload_codec import csv_cells

Label = int | str

_SCALE: Final = 10**7  # 7 decimals
_SMALLEST_FIXED: Final = 1000  # k below this (p < 1e-4) is written as 1e-05 etc. by repr
_ASCII4: Final = np.dtype("<u4")  # 4 ASCII bytes, first one lowest
#: _HEADS[h]: "0." and the 2 digits of h < 100, or "1.00" for h = 100 (k = 10**7)
_HEADS: Final = np.frombuffer(b"".join(b"0.%02d" % h for h in range(100)) + b"1.00", dtype=_ASCII4)
#: _DIGITS4[n]: the 4 digits of n < 10**4, zero-padded; _ZEROS4[n], _ZEROS2[n]: how many 0s end them
_DIGITS4: Final = np.frombuffer(b"".join(b"%04d" % n for n in range(10_000)), dtype=_ASCII4)
_ZEROS4: Final = np.array([4 - len(f"{n:04d}".rstrip("0")) for n in range(10_000)], dtype=np.intp)
_ZEROS2: Final = np.array([2 - len(f"{n:02d}".rstrip("0")) for n in range(100)], dtype=np.intp)


def binary_text(values: npt.NDArray[np.float32], labels: Sequence[Label], content_type: str) -> bytes | None:
    """The body for binary predictions (``values``: P(positive) per row), or None (see module doc)."""
    if content_type not in _FORMATS or len(labels) != 2:
        return None
    k = _scaled(values)
    if k is None:
        return None
    winner = (k >= _SCALE // 2).astype(np.intp)  # the rounded probability >= 0.5
    if content_type == CONTENT_TYPE_CSV:
        short = _short_csv_rows(tuple(labels))
        if short is not None:
            return short.write(k, winner)
        return _Rows(winner).table(_label_cells(tuple(labels), "csv")).text(b",").number(k).text(b"\n").join()
    rows = _Rows(winner).text(b'{"predicted_label":').table(_label_cells(tuple(labels), "json"))
    return _finish(rows.text(b',"probability":').number(k), content_type)


def multiclass_text(
    values: npt.NDArray[np.float32], labels: Sequence[Label], content_type: str
) -> bytes | None:
    """The body for multiclass predictions (``values``: rows x classes), or None (see module doc)."""
    if values.ndim != 2 or values.shape[1] != len(labels) or content_type not in _FORMATS:
        return None
    columns = [_scaled(values[:, c]) for c in range(values.shape[1])]
    if any(k is None for k in columns):
        return None
    rows = _Rows(values.argmax(axis=1))
    if content_type == CONTENT_TYPE_CSV:
        rows.table(_label_cells(tuple(labels), "csv"))
        for k in columns:
            rows.text(b",").number(k)  # type: ignore[arg-type]  # None ruled out above
        return rows.text(b"\n").join()
    rows.text(b'{"predicted_label":').table(_label_cells(tuple(labels), "json")).text(b',"probabilities":{')
    for c, k in enumerate(columns):
        rows.text((b"," if c else b"") + json.dumps(str(labels[c])).encode() + b":").number(k)  # type: ignore[arg-type]
    return _finish(rows.text(b"}"), content_type)


_FORMATS: Final = frozenset({CONTENT_TYPE_CSV, CONTENT_TYPE_JSON, CONTENT_TYPE_JSONLINES})
_WIDTH: Final = 12  # "0." + 7 decimals, in 3 words of 4 bytes


def _scaled(values: npt.NDArray[np.float32]) -> npt.NDArray[np.int32] | None:
    """k = rint(value * 1e7) per value, as np.round(values, 7) computes it; None outside the fixed form."""
    scaled = np.rint(values.astype(np.float64) * float(_SCALE))
    if not ((scaled >= 0) & (scaled <= _SCALE)).all():  # NaN fails both
        return None
    k: npt.NDArray[np.int32] = scaled.astype(np.int32)
    if ((k > 0) & (k < _SMALLEST_FIXED)).any():
        return None
    return k


class _Rows:
    """One text row per prediction, built left to right from fixed-width segments and a keep mask."""

    def __init__(self, index: npt.NDArray[np.intp]) -> None:
        self.index = index  # which label each row shows
        self.parts: list[tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_] | None]] = []

    def text(self, constant: bytes) -> _Rows:
        self.parts.append((np.frombuffer(constant, dtype=np.uint8), None))
        return self

    def table(self, cells: tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]) -> _Rows:
        self.parts.append((cells[0].take(self.index, axis=0), cells[1].take(self.index, axis=0)))
        return self

    def number(self, k: npt.NDArray[np.int32]) -> _Rows:
        """repr(np.round(p, 7)) of each row's p = k / 1e7 (see module doc), as 12 bytes and a mask."""
        head, rest = np.divmod(k, 100_000)  # "0.12", "1.00" (k = 10**7) | decimals 3 to 7
        middle, last = np.divmod(rest, 10)
        text = np.empty((k.size, 3), dtype=_ASCII4)
        text[:, 0] = _HEADS.take(head)
        text[:, 1] = _DIGITS4.take(middle)
        text[:, 2] = ord("0") + last  # one ASCII digit, then 3 bytes the mask drops
        # decimals kept: up to the last non-zero one, at least one (0.0, 1.0)
        decimals = np.where(
            last != 0, 7, np.where(middle != 0, 6 - _ZEROS4.take(middle), 2 - _ZEROS2.take(head % 100))
        )
        self.parts.append((text.view(np.uint8), _PREFIX_MASKS.take(np.maximum(decimals, 1) + 2, axis=0)))
        return self

    def join(self) -> bytes:
        width = sum(chars.shape[-1] for chars, _ in self.parts)
        chars = np.empty((self.index.size, width), dtype=np.uint8)
        keep = np.ones((self.index.size, width), dtype=bool)
        at = 0
        for part, mask in self.parts:
            chars[:, at : at + part.shape[-1]] = part
            if mask is not None:
                keep[:, at : at + part.shape[-1]] = mask
            at += part.shape[-1]
        text: bytes = chars[keep].tobytes()
        return text


#: _PREFIX_MASKS[n]: keep the first n of _WIDTH bytes
_PREFIX_MASKS: Final = np.arange(_WIDTH) < np.arange(_WIDTH + 1)[:, None]


def _finish(record: _Rows, content_type: str) -> bytes:
    """JSON lines: one record a line; JSON: the records, comma-separated, in {"predictions": [...]}."""
    if content_type == CONTENT_TYPE_JSONLINES:
        return record.text(b"}\n").join()
    return b'{"predictions":[' + record.text(b"},").join()[:-1] + b"]}"


@functools.lru_cache(maxsize=16)
def _label_cells(
    labels: tuple[Label, ...], style: str
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    """Each label as a CSV cell or JSON value: (labels x width) bytes and their keep mask."""
    texts = (
        [c.encode() for c in csv_cells(labels)]
        if style == "csv"
        else [json.dumps(v).encode() for v in labels]
    )
    width = max(len(t) for t in texts)
    chars = np.frombuffer(b"".join(t.ljust(width, b"\0") for t in texts), dtype=np.uint8).reshape(-1, width)
    return chars, np.arange(width) < np.array([len(t) for t in texts])[:, None]


#: by h = k // 10**5 (0..100): how many decimals repr writes when k's last 5 digits are 0 (at least 1)
_DECIMALS_HEAD: Final = np.maximum(1, 2 - _ZEROS2.take(np.arange(101) % 100))
#: by m = k // 10 % 10**4 (m > 0), when k's last digit is 0: decimals up to m's last non-zero digit
_DECIMALS_MIDDLE: Final = 6 - _ZEROS4


class _ShortCsvRows:
    """Binary CSV rows ``label,probability`` for labels whose CSV cells have at most 3 bytes.

    Each row is put together in 16 bytes, as four 4-byte words: the label right-aligned before a
    comma, then what :meth:`_Rows.number` writes (``"0.12"``, ``"3456"``, ``"7"``); the newline
    goes right after the last decimal kept, and one mask per (decimals, label) picks the bytes.
    Fewer whole-array steps than the general :class:`_Rows` for the same bytes.
    """

    def __init__(self, cells: list[bytes]) -> None:
        self.heads = np.frombuffer(b"".join(c.rjust(3, b"\0") + b"," for c in cells), dtype=_ASCII4)
        # keep[decimals * 2 + label]: the label's bytes, the comma, "0." and the decimals, the newline
        self.keep = np.zeros((16, 16), dtype=bool)
        for decimals in range(1, 8):
            for label, cell in enumerate(cells):
                self.keep[decimals * 2 + label, 3 - len(cell) : 4 + 2 + decimals + 1] = True

    def write(self, k: npt.NDArray[np.int32], winner: npt.NDArray[np.intp]) -> bytes:
        head, rest = np.divmod(k, 100_000)
        middle, last = np.divmod(rest, 10)
        rows = np.zeros((k.size, 4), dtype=_ASCII4)
        rows[:, 0] = self.heads.take(winner)
        rows[:, 1] = _HEADS.take(head)
        rows[:, 2] = _DIGITS4.take(middle)
        rows[:, 3] = ord("0") + last
        decimals = np.where(
            last != 0, 7, np.where(middle != 0, _DECIMALS_MIDDLE.take(middle), _DECIMALS_HEAD.take(head))
        )
        chars = rows.view(np.uint8)
        newline = 4 + 2 + decimals  # one past the last decimal: a "0" there, or a zero byte
        chars.reshape(-1)[newline + np.arange(0, 16 * k.size, 16)] = ord("\n")
        text: bytes = chars[self.keep.take(decimals * 2 + winner, axis=0)].tobytes()
        return text


@functools.lru_cache(maxsize=16)
def _short_csv_rows(labels: tuple[Label, ...]) -> _ShortCsvRows | None:
    """The short writer for these labels, or None if a label's CSV cell is longer than 3 bytes."""
    cells = [c.encode() for c in csv_cells(labels)]
    return _ShortCsvRows(cells) if all(len(c) <= 3 for c in cells) else None
