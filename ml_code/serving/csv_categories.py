"""The categorical fields of a clean CSV body, as ml_code/serving/csv_columns.py reads them: text to one-hot.

What it owns: the exact lookup of each (categorical feature, field) among the feature's known
categories, and the one-hot columns it sets (the category's, ``__missing__`` for an empty field,
``__other__`` for any other text, as transform_rows does). It answers False for a batch with an
unknown field that starts or ends with whitespace (``str.strip`` would change it; the reference
path decides those).

How: a field's bytes, zero-padded to ``n_words`` 64-bit words, with its feature written into the
high bits of the first word's bytes (ASCII never sets them), are a key that equals a known
category's key exactly when the field is that category (no NUL in either, checked by
csv_columns and here). A multiply-shift hash of the key picks a slot of a direct-mapped table
built so that every known key, the empty field of each feature included, has a slot of its own;
a field is that slot's category only if its key equals the slot's, word for word.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ml_code.serving.csv_words import WORD, Ints, Words

#: odd multipliers for hashing a field's words; the first that separates the keys is used
_MULTIPLIERS: Final = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93)
#: a feature's ordinal goes into the high bits of its first word's 8 bytes: up to 256 features
MAX_FEATURES: Final = 256
#: bytes str.strip() removes (ASCII whitespace, including the \x1c-\x1f separators)
_WHITESPACE: Final = np.zeros(256, dtype=bool)
_WHITESPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True


def _feature_bits(feature: int) -> int:
    return sum(((feature >> bit) & 1) << (8 * bit + 7) for bit in range(8))


class CategoryFields:
    """``read(...)``: sets the one-hot columns of the categorical fields in ``out``; False to decline."""

    def __init__(
        self, fields: Ints, other: Ints, missing: Ints, known: dict[tuple[int, bytes], int], width: int
    ) -> None:
        """``known``: (feature ordinal among ``fields``, ASCII category without NUL) -> output column;
        ``width``: the matrix's. Raises ValueError for more than MAX_FEATURES features."""
        if len(fields) > MAX_FEATURES:
            raise ValueError(f"at most {MAX_FEATURES} categorical features")
        self.fields = fields
        self.other = other
        keys = {**known, **{(k, b""): int(column) for k, column in enumerate(missing)}}
        self.n_words = max(1, -(-max(len(text) for _, text in keys) // 8))
        self.capacity = 8 * self.n_words  # longer fields are no category
        self.marks = np.array([_feature_bits(k) for k in range(len(fields))], dtype=WORD)
        padded = b"".join(text.ljust(self.capacity, b"\0") for _, text in keys)
        key_words = np.frombuffer(padded, dtype=WORD).reshape(len(keys), self.n_words).copy()
        key_words[:, 0] ^= self.marks[[k for k, _ in keys]]
        slots = self._separate(list(key_words.T))
        size = 1 << (64 - int(self.shift))
        self.column = np.full(size, -1, dtype=np.intp)
        self.column[slots] = list(keys.values())
        self.keys = [np.zeros(size, dtype=WORD) for _ in range(self.n_words)]
        for table, column in zip(self.keys, key_words.T, strict=True):
            table[slots] = column
        #: masks[w][length]: which bytes of a field's w-th word are the field's
        self.masks = [
            np.array(
                [(1 << (8 * min(max(n - 8 * w, 0), 8))) - 1 for n in range(self.capacity + 1)], dtype=WORD
            )
            for w in range(self.n_words)
        ]
        self.width = width
        self._offsets = np.zeros((0, 1), dtype=np.intp)

    def _separate(self, words: list[Words]) -> Ints:
        """Picks the smallest table and multiplier that give every key its own slot; the slots."""
        for bits in range(max(len(words[0]), 2).bit_length() + 2, 21):
            for multiplier in _MULTIPLIERS:
                self.multiplier, self.shift = np.uint64(multiplier), np.uint64(64 - bits)
                slots = self._slots(words)
                if np.unique(slots).size == slots.size:
                    return slots
        raise ValueError("no hash separates these categories")  # pragma: no cover - a million categories

    def _slots(self, words: list[Words]) -> Ints:
        value = words[0]
        for word in words[1:]:
            value = value * self.multiplier + word  # wraps modulo 2**64, on purpose
        slots: Ints = ((value * self.multiplier) >> self.shift).view(np.intp)
        return slots

    def read(
        self, raw: npt.NDArray[np.uint8], words: Any, starts: Ints, ends: Ints, out: npt.NDArray[np.float32]
    ) -> bool:
        first = starts.take(self.fields, axis=1)  # (row, categorical feature), contiguous
        lengths = ends.take(self.fields, axis=1) - first
        too_long = int(lengths.max()) > self.capacity
        clamped = np.minimum(lengths, self.capacity) if too_long else lengths
        key = [words.take(first + 8 * w) & self.masks[w].take(clamped) for w in range(self.n_words)]
        key[0] ^= self.marks
        slot = self._slots(key)
        same = self.keys[0].take(slot) == key[0]
        for table, word in zip(self.keys[1:], key[1:], strict=True):
            same &= table.take(slot) == word
        if too_long:
            same &= lengths <= self.capacity
        if not same.all():  # a known category has no surrounding whitespace; the others may
            unknown = ~same
            edges = first[unknown], first[unknown] + lengths[unknown] - 1
            if (_WHITESPACE[raw[edges[0]]] | _WHITESPACE[raw[edges[1]]]).any():
                return False
        target = np.where(same, self.column.take(slot), self.other)
        target += self._row_offsets(target.shape[0])
        out.reshape(-1)[target.ravel()] = 1.0
        return True

    def _row_offsets(self, rows: int) -> Ints:
        """(rows, 1): where each row of the matrix starts in its flat view (kept for the next body)."""
        offsets = self._offsets  # one read: another thread may replace it
        if offsets.shape[0] < rows:
            offsets = self._offsets = np.arange(max(rows, 1024), dtype=np.intp)[:, None] * self.width
        return offsets[:rows]
