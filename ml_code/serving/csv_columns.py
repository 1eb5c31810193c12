"""Vectorized path from a clean CSV body straight to the model's feature matrix.

The reference path (csv.reader -> rows of str -> FeatureTransformer.transform_rows) builds a
Python object per cell: about 3 ms for 1,000 rows of 10 features on the benchmark machine,
many times what the trees take to predict them. Here numpy reads the body as bytes: the
separators' positions, then each field's bytes as 64-bit words (numbers are summed digit by
digit eight at a time, categories are found by a hash of their words and then compared
whole), with no Python object per cell.

It owns no semantics. It answers only for bodies where its result is provably the
reference's and returns None for anything else, which then takes the reference path (and gets
its answer or its PayloadError, with the reference's message):

- ASCII text without ``"`` (no quoting), ``\\r`` or NUL, no blank lines, exactly one field per
  feature on every line, and a first line that is not the header: csv.reader then splits each
  line on commas, so the rows are ``line.split(",")``;
- numeric fields empty (missing) or ``-?digits[.digits]`` with at most 14 digits, which
  ``float()`` reads as the correctly rounded value of mantissa / 10**decimals, and so does
  float64 division here since both are exact (a leading or trailing dot is accepted, as
  ``float()`` accepts it);
- categorical fields empty (missing) or without surrounding whitespace, so ``str.strip`` leaves
  them as they are; a field equal to no category goes to ``__other__``, as in transform_rows.

tests/unit/test_payload_fuzz.py checks it against the reference on generated bodies.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ml_code.features import MISSING, OTHER, FeatureTransformer

Ints = npt.NDArray[np.intp]
Words = npt.NDArray[np.uint64]

_COMMA: Final = 44
_NEWLINE: Final = 10
_MINUS: Final = 45
_DOT: Final = 46
#: With the dot read as a 0 digit, 14 digits stay below 2**53: every step below is exact.
_MAX_DIGITS: Final = 14
_MAX_NUMBER_CHARS: Final = _MAX_DIGITS + 2  # sign and dot
_WORD: Final = np.dtype("<u8")  # 8 bytes of text, the first one lowest, whatever the host's order
_POW10: Final = 10.0 ** np.arange(_MAX_NUMBER_CHARS + 1)
#: word & _FIRST[k] keeps a word's first k bytes, word & _LAST[k] its last k
_FIRST: Final = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=_WORD)
_LAST: Final = np.array([(1 << 64) - (1 << (8 * (8 - k))) for k in range(9)], dtype=_WORD)
_BYTE_SUM: Final = np.uint64(0x0101010101010101)  # (word * this) >> 56: the sum of its bytes
_BYTES_AFTER: Final = np.uint64(0x0706050403020100)  # (flags * this) >> 56: sum of 7 - index
_TOP: Final = np.uint64(56)
#: bytes str.strip() removes (ASCII whitespace, including the \x1c-\x1f separators)
_WHITESPACE: Final = np.zeros(256, dtype=bool)
_WHITESPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
#: odd multipliers for hashing a field's words; the first that separates the categories is used
_MULTIPLIERS: Final = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93)


class CsvColumns:
    """``parse(text)``: the feature matrix of a clean CSV body (see module doc), else None."""

    def __init__(self, transformer: FeatureTransformer) -> None:
        self.width = len(transformer.feature_names)
        self.out_width = len(transformer.output_names)
        self.header = ",".join(transformer.feature_names)
        index = {name: i for i, name in enumerate(transformer.output_names)}
        numeric = [(i, s) for i, s in enumerate(transformer.features) if s["kind"] == "numeric"]
        categorical = [(i, s) for i, s in enumerate(transformer.features) if s["kind"] != "numeric"]
        self.numeric_fields = np.array([i for i, _ in numeric], dtype=np.intp)
        self.numeric_columns = np.array([index[s["name"]] for _, s in numeric], dtype=np.intp)
        self.medians = np.array([[float(s["median"])] for _, s in numeric], dtype=np.float64)
        flagged = [k for k, (_, s) in enumerate(numeric) if s["missing_indicator"]]
        self.indicator_fields = np.array(flagged, dtype=np.intp)
        self.indicator_columns = np.array(
            [index[f"{numeric[k][1]['name']}__missing"] for k in flagged], dtype=np.intp
        )
        self.categorical_fields = np.array([i for i, _ in categorical], dtype=np.intp)
        self.other = np.array([index[f"{s['name']}={OTHER}"] for _, s in categorical], dtype=np.intp)
        self.missing = np.array([index[f"{s['name']}={MISSING}"] for _, s in categorical], dtype=np.intp)
        # (feature ordinal, category) -> output column. Other categories can never equal a field
        # this path accepts (ASCII, no NUL, nothing str.strip would remove).
        known = {
            (k, str(c).encode()): index[f"{spec['name']}={c}"]
            for k, (_, spec) in enumerate(categorical)
            for c in spec["categories"]
            if str(c) and str(c).isascii() and "\x00" not in str(c) and str(c).strip() == str(c)
        }
        self.table = _CategoryTable(known) if known else None
        key_words = self.table.n_words if self.table else 0
        #: zero bytes around the body: a field's words are read from its start or back from its end
        self.padding = bytes(8 * max(key_words, -(-_MAX_NUMBER_CHARS // 8)) + 8)

    def parse(self, text: str) -> npt.NDArray[np.float32] | None:
        fields = self._fields(text)
        if fields is None:
            return None
        raw, words, starts, ends = fields
        out = np.zeros((starts.shape[0], self.out_width), dtype=np.float32)
        if self.numeric_fields.size and not self._numbers(raw, words, starts, ends, out):
            return None
        if self.categorical_fields.size and not self._categories(raw, words, starts, ends, out):
            return None
        return out

    def _fields(self, text: str) -> tuple[npt.NDArray[np.uint8], Any, Ints, Ints] | None:
        """The padded bytes, their words, and each field's start and end, (row, feature); or None."""
        unusual = not text or not text.isascii() or '"' in text or "\r" in text or "\x00" in text
        # A blank line (csv.reader skips it) has one field: the counts below refuse it, unless
        # every row has one field.
        blank_lines = self.width == 1 and (text.startswith("\n") or "\n\n" in text)
        if unusual or blank_lines or text[: text.find("\n") % (len(text) + 1)] == self.header:
            return None
        data = self.padding + text.encode("ascii") + (b"" if text.endswith("\n") else b"\n") + self.padding
        raw = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero((raw == _COMMA) | (raw == _NEWLINE))  # the padding holds neither
        rows, extra = divmod(ends.size, self.width)
        if extra or np.count_nonzero(raw[ends] == _NEWLINE) != rows:  # str.count("\n") takes 4x longer
            return None
        ends = ends.reshape(rows, self.width)
        if not (raw[ends[:, -1]] == _NEWLINE).all():
            return None
        starts = np.empty_like(ends)
        starts.ravel()[0] = len(self.padding)
        starts.ravel()[1:] = ends.ravel()[:-1] + 1
        words: Any = np.ndarray((raw.size - 7,), dtype=_WORD, buffer=data, strides=(1,))  # one per offset
        return raw, words, starts, ends

    def _numbers(
        self, raw: npt.NDArray[np.uint8], words: Any, starts: Ints, ends: Ints, out: npt.NDArray[np.float32]
    ) -> bool:
        last = ends[:, self.numeric_fields].T.ravel()  # feature-major: one block of rows per feature
        lengths = last - starts[:, self.numeric_fields].T.ravel()
        longest = int(lengths.max())
        if longest > _MAX_NUMBER_CHARS:
            return False
        # each field right-aligned in n words, zero bytes in front: "-12.5" -> "\0\0\0-12.5"
        n_words = max(-(-longest // 8), 1)
        text = np.empty((last.size, n_words), dtype=_WORD)
        for w in range(n_words):  # w = 0 is the leftmost
            bytes_in_word = np.minimum(np.maximum(lengths - 8 * (n_words - 1 - w), 0), 8)
            text[:, w] = words[last - 8 * (n_words - w)] & _LAST[bytes_in_word]
        chars = text.view(np.uint8)
        digits = chars - np.uint8(48)
        is_digit = digits < 10
        is_dot = chars == _DOT
        stray = (chars != 0) & ~is_digit & ~is_dot
        digits *= is_digit  # the sign, the dot and the padding read as 0 digits
        n_digits, n_dots = _byte_sums(is_digit), _byte_sums(is_dot)
        present = lengths > 0
        negative = present & (raw[last - lengths] == _MINUS)
        if (
            (_byte_sums(stray) != negative).any()  # the one stray char allowed: a leading minus
            or (n_dots > 1).any()
            or (n_digits > _MAX_DIGITS).any()
            or (present & (n_digits == 0)).any()
        ):
            return False
        spelled = _eight_digits(digits, 0)
        for w in range(1, n_words):
            spelled = spelled * np.uint64(10**8) + _eight_digits(digits, w)
        # The dot was read as a 0 digit: 12.34 spelled 12034. Take the digits before it down one
        # place: mantissa = spelled - 9 * 10**decimals * (spelled // 10**(decimals + 1)) = 1234.
        number = spelled.astype(np.float64)
        decimals = _bytes_after_dot(is_dot)
        before_dot = np.floor(number / _POW10[decimals + 1]) * (n_dots > 0)
        values = (number - 9.0 * _POW10[decimals] * before_dot) / _POW10[decimals]
        values[negative] *= -1.0  # "-0" gives -0.0, as float("-0") does
        values = values.reshape(self.numeric_fields.size, -1)
        missing = ~present.reshape(values.shape)
        out[:, self.numeric_columns] = np.where(missing, self.medians, values).T
        if self.indicator_fields.size:
            out[:, self.indicator_columns] = missing[self.indicator_fields].T
        return True

    def _categories(
        self, raw: npt.NDArray[np.uint8], words: Any, starts: Ints, ends: Ints, out: npt.NDArray[np.float32]
    ) -> bool:
        first = starts[:, self.categorical_fields]  # (row, categorical feature)
        lengths = ends[:, self.categorical_fields] - first
        present = lengths > 0
        column = (
            self.table.lookup(words, first, lengths) if self.table is not None else np.full(first.shape, -1)
        )
        unknown = present & (column < 0)
        if unknown.any():  # a known category has no surrounding whitespace; the others may
            edges = first[unknown], first[unknown] + lengths[unknown] - 1
            if (_WHITESPACE[raw[edges[0]]] | _WHITESPACE[raw[edges[1]]]).any():
                return False
        target = np.where(unknown, self.other, self.missing)
        target = np.where(present & (column >= 0), column, target)
        target += (np.arange(out.shape[0]) * out.shape[1])[:, None]
        out.reshape(-1)[target.ravel()] = 1.0
        return True


class _CategoryTable:
    """Exact lookup of each (categorical feature, field) among the known categories.

    A field's bytes, zero-padded to ``n_words`` words, are hashed with its feature into a
    direct-mapped table of 2**bits slots holding at most one known category each; a field is
    that category only if its feature, length and words all equal the slot's.
    """

    def __init__(self, known: dict[tuple[int, bytes], int]) -> None:
        keys = list(known)
        self.n_words = max(1, -(-max(len(text) for _, text in keys) // 8))
        self.capacity = 8 * self.n_words  # longer fields are no category
        padded = b"".join(text.ljust(self.capacity, b"\0") for _, text in keys)
        key_words = np.frombuffer(padded, dtype=_WORD).reshape(len(keys), self.n_words).T
        features = np.array([k for k, _ in keys], dtype=np.intp)
        tags = features * (self.capacity + 2) + [len(text) for _, text in keys]
        for bits in range(max(len(keys), 2).bit_length() + 2, 21):
            for multiplier in _MULTIPLIERS:
                self.multiplier, self.shift = np.uint64(multiplier), np.uint64(64 - bits)
                slots = self._slots(list(key_words), features.astype(np.uint64))
                if np.unique(slots).size == slots.size:
                    break
            else:
                continue
            break
        else:  # pragma: no cover - needs more than a million categories
            raise ValueError("no hash separates these categories")
        size = 1 << bits
        self.column = np.full(size, -1, dtype=np.intp)
        self.column[slots] = [known[key] for key in keys]
        self.tag = np.full(size, -1, dtype=np.intp)  # feature and length of the slot's category
        self.tag[slots] = tags
        self.words = [np.zeros(size, dtype=_WORD) for _ in range(self.n_words)]
        for table, column in zip(self.words, key_words, strict=True):
            table[slots] = column
        #: _MASKS[w][length]: which bytes of a field's w-th word are the field's
        self.masks = [
            _FIRST[np.clip(np.arange(self.capacity + 2) - 8 * w, 0, 8)] for w in range(self.n_words)
        ]

    def _slots(self, words: list[Words], features: Words) -> Ints:
        """Slot of each field, from its words (one array per word) and its feature (as uint64)."""
        value = features
        for word in words:
            value = value * self.multiplier + word  # wraps modulo 2**64, on purpose
        return ((value * self.multiplier) >> self.shift).astype(np.intp)

    def lookup(self, words: Any, first: Ints, lengths: Ints) -> Ints:
        """The output column of each field's category, -1 where the field is none."""
        clamped = np.minimum(lengths, self.capacity + 1)
        fields = [words[first + 8 * w] & self.masks[w][clamped] for w in range(self.n_words)]
        feature = np.arange(first.shape[1])
        slot = self._slots(fields, feature.astype(np.uint64))
        same = self.tag[slot] == clamped + feature * (self.capacity + 2)
        for table, field in zip(self.words, fields, strict=True):
            same &= table[slot] == field
        return np.where(same, self.column[slot], -1)


def _byte_sums(flags: npt.NDArray[np.bool_]) -> Words:
    """Per field (row of 8-byte words of 0/1 flags), how many flags are set."""
    packed = flags.view(_WORD)
    total = (packed[:, 0] * _BYTE_SUM) >> _TOP
    for w in range(1, packed.shape[1]):
        total += (packed[:, w] * _BYTE_SUM) >> _TOP
    return total


def _bytes_after_dot(is_dot: npt.NDArray[np.bool_]) -> Ints:
    """Per right-aligned field, how many bytes follow its dot (0 without one)."""
    packed = is_dot.view(_WORD)
    n_words = packed.shape[1]
    total = np.zeros(packed.shape[0], dtype=np.uint64)
    for w in range(n_words):  # a word's byte i has 7 - i bytes after it, and 8 per word to its right
        total += (packed[:, w] * _BYTES_AFTER) >> _TOP
        total += ((packed[:, w] * _BYTE_SUM) >> _TOP) * np.uint64(8 * (n_words - 1 - w))
    return total.astype(np.intp)


def _eight_digits(digits: npt.NDArray[np.uint8], word: int) -> Words:
    """The number each field's ``word``-th 8 digit values (0-9, first most significant) spell."""
    value = digits.view(_WORD)[:, word].astype(np.uint64)  # pairs, then quads, then all eight
    value = (value * np.uint64(10) + (value >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    value = (value * np.uint64(100) + (value >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    return (value * np.uint64(10000) + (value >> np.uint64(32))) & np.uint64(0xFFFFFFFF)
