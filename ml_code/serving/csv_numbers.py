"""The numeric fields of a clean CSV body, as ml_code/serving/csv_columns.py reads them: numbers to floats.

What it owns: which number spellings the column-wise reader accepts (empty, or ``-?digits[.digits]``
with at most 14 digits; csv_columns' module doc says why ``float()`` gives the same value) and
their values, written into the feature matrix with the medians and missing-value indicators.
It answers False for a batch holding anything else, which then takes the reference path.

Two readers, one answer. Each field is read back from its end into 64-bit words, right-aligned:
``"-12.5"`` is the word ``"\\0\\0\\0-12.5"``. Batches whose numbers all fit in one word (at most 8
characters: the usual case) take :meth:`NumberFields._short`, which works on that one word with
a handful of whole-array operations (the per-operation cost, not the bytes, is what a 1,000-row
request pays here); longer ones take :meth:`NumberFields._long`, word by word.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ml_code.serving.csv_words import WORD, Ints, byte_sums, bytes_after_dot, eight_digits

_MINUS: Final = 45
_DOT: Final = 46
#: With the dot read as a 0 digit, 14 digits stay below 2**53: every step below is exact.
MAX_DIGITS: Final = 14
MAX_NUMBER_CHARS: Final = MAX_DIGITS + 2  # sign and dot
_POW10: Final = 10.0 ** np.arange(MAX_NUMBER_CHARS + 1)
#: word & _LAST[k] keeps a word's last k bytes
_LAST: Final = np.array([(1 << 64) - (1 << (8 * (8 - k))) for k in range(9)], dtype=WORD)
_U: Final = np.uint64
#: per field, digits + 16 * dots (one byte each, summed by one multiplication)
_BYTE_SUM: Final = _U(0x0101010101010101)
#: (dot flags * this) >> 56: 0 without a dot, else 1 + the number of bytes after it
_DOT_CODE: Final = _U(0x0807060504030201)
_TOP: Final = _U(56)


def _valid_table() -> npt.NDArray[np.bool_]:
    """_VALID[((digits + 16 * dots) * 9 + length) * 2 + minus]: a field the short reader may read."""
    table = np.zeros((8 + 16 * 8 + 1, 9, 2), dtype=bool)
    table[0, 0, 0] = True  # empty: missing
    for digits in range(1, 9):
        for dots in (0, 1):
            for minus in (0, 1):
                if digits + dots + minus <= 8:
                    table[digits + 16 * dots, digits + dots + minus, minus] = True
    return table.ravel()


_VALID: Final = _valid_table()
#: by dot code (above): the divisor 10**decimals, and 9 * it (0 without a dot: nothing to take out)
_DIVISOR: Final = np.array([1.0] + [10.0**k for k in range(8)])
_NINE: Final = np.array([0.0] + [9.0 * 10.0**k for k in range(8)])


class NumberFields:
    """``read(...)``: writes the numeric fields' columns into ``out``; False to decline the batch."""

    def __init__(
        self, fields: Ints, columns: Ints, medians: list[float], indicators: list[tuple[int, int]]
    ) -> None:
        self.fields = fields  # field ordinals, in the body's order
        self.columns = columns  # their output columns
        self.medians = np.array(medians, dtype=np.float64)
        self.indicator_fields = np.array([k for k, _ in indicators], dtype=np.intp)  # among self.fields
        self.indicator_columns = np.array([c for _, c in indicators], dtype=np.intp)

    def read(
        self, raw: npt.NDArray[np.uint8], words: Any, starts: Ints, ends: Ints, out: npt.NDArray[np.float32]
    ) -> bool:
        last = ends.take(self.fields, axis=1)  # (row, numeric feature): each field's end, a separator
        first = starts.take(self.fields, axis=1)  # contiguous, as take's indices are fastest
        lengths = last - first
        longest = int(lengths.max())
        if longest > MAX_NUMBER_CHARS:
            return False
        values = (
            self._short(raw, words, first, last, lengths)
            if longest <= 8
            else self._long(raw, words, last.T.ravel(), lengths.T.ravel(), longest)
        )
        if values is None:
            return False
        missing = lengths == 0
        np.copyto(values, self.medians, where=missing)
        out[:, self.columns] = values
        if self.indicator_fields.size:
            out[:, self.indicator_columns] = missing[:, self.indicator_fields]
        return True

    @staticmethod
    def _short(
        raw: npt.NDArray[np.uint8], words: Any, first: Ints, last: Ints, lengths: Ints
    ) -> npt.NDArray[np.float64] | None:
        """Fields of at most 8 characters, one word each: values (row, feature), or None."""
        text = words.take(last - 8) & _LAST.take(lengths)
        chars = text.view(np.uint8)
        is_dot = chars == _DOT
        digits = chars - np.uint8(48)
        is_digit = digits < 10
        counts = ((is_digit.view(WORD) + (is_dot.view(WORD) << _U(4))) * _BYTE_SUM) >> _TOP
        # every byte a digit, at most one dot, a minus only first, at least one digit (or empty)
        minus = raw.take(first) == _MINUS
        if not _VALID.take((counts.view(np.int64) * 9 + lengths) * 2 + minus).all():
            return None
        digits *= is_digit  # the dot, the minus and the padding read as 0 digits
        # the number the 8 digit bytes spell, pairs then quads then all 8 (first byte most significant)
        spelled = digits.view(WORD)
        spelled = ((spelled * _U(2561)) >> _U(8)) & _U(0x00FF00FF00FF00FF)
        spelled = ((spelled * _U(6553601)) >> _U(16)) & _U(0x0000FFFF0000FFFF)
        number = ((spelled * _U(42949672960001)) >> _U(32)).astype(np.float64)
        # The dot was read as a 0 digit: 12.34 spelled 12034. With p = 10**decimals the digits before
        # it are number // (10 * p); mantissa = number - 9 * p * that = 1234, all exact; then / p.
        dot_code = (is_dot.view(WORD) * _DOT_CODE) >> _TOP
        divisor = _DIVISOR.take(dot_code)
        values: npt.NDArray[np.float64] = (
            number - _NINE.take(dot_code) * np.floor(number / (divisor * 10.0))
        ) / divisor
        np.negative(values, out=values, where=minus)  # "-0" gives -0.0, as float("-0") does
        return values

    def _long(
        self, raw: npt.NDArray[np.uint8], words: Any, last: Ints, lengths: Ints, longest: int
    ) -> npt.NDArray[np.float64] | None:
        """Any field up to MAX_NUMBER_CHARS, word by word, feature-major: values (row, feature), or None."""
        # each field right-aligned in n words, zero bytes in front: "-12.5" -> "\0\0\0-12.5"
        n_words = max(-(-longest // 8), 1)
        text = np.empty((last.size, n_words), dtype=WORD)
        for w in range(n_words):  # w = 0 is the leftmost
            bytes_in_word = np.minimum(np.maximum(lengths - 8 * (n_words - 1 - w), 0), 8)
            text[:, w] = words[last - 8 * (n_words - w)] & _LAST[bytes_in_word]
        chars = text.view(np.uint8)
        digits = chars - np.uint8(48)
        is_digit = digits < 10
        is_dot = chars == _DOT
        stray = (chars != 0) & ~is_digit & ~is_dot
        digits *= is_digit  # the sign, the dot and the padding read as 0 digits
        n_digits, n_dots = byte_sums(is_digit), byte_sums(is_dot)
        present = lengths > 0
        negative = present & (raw[last - lengths] == _MINUS)
        if (
            (byte_sums(stray) != negative).any()  # the one stray char allowed: a leading minus
            or (n_dots > 1).any()
            or (n_digits > MAX_DIGITS).any()
            or (present & (n_digits == 0)).any()
        ):
            return None
        spelled = eight_digits(digits, 0)
        for w in range(1, n_words):
            spelled = spelled * np.uint64(10**8) + eight_digits(digits, w)
        # as in _short: the digits before the dot, taken down one place
        number = spelled.astype(np.float64)
        decimals = bytes_after_dot(is_dot)
        before_dot = np.floor(number / _POW10[decimals + 1]) * (n_dots > 0)
        values = (number - 9.0 * _POW10[decimals] * before_dot) / _POW10[decimals]
        values[negative] *= -1.0
        return np.ascontiguousarray(values.reshape(self.fields.size, -1).T)
