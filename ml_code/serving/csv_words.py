"""Text as 64-bit words, for ml_code/serving/csv_columns.py: 8 bytes of a field in one uint64.

What it owns: the word type and byte masks, per-field byte counts and the number eight digit
bytes spell (a few multiplications per word, no loop over bytes), and :class:`CategoryTable`,
the exact lookup of a field's words among the known categories. csv_columns decides which
bodies it may read and assembles the feature matrix from these.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.intp]
Words = npt.NDArray[np.uint64]

WORD: Final = np.dtype("<u8")  # 8 bytes of text, the first one lowest, whatever the host's order
#: word & _FIRST[k] keeps a word's first k bytes
_FIRST: Final = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=WORD)
_BYTE_SUM: Final = np.uint64(0x0101010101010101)  # (word * this) >> 56: the sum of its bytes
_BYTES_AFTER: Final = np.uint64(0x0706050403020100)  # (flags * this) >> 56: sum of 7 - index
_TOP: Final = np.uint64(56)
#: odd multipliers for hashing a field's words; the first that separates the categories is used
_MULTIPLIERS: Final = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93)


class CategoryTable:
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
        key_words = np.frombuffer(padded, dtype=WORD).reshape(len(keys), self.n_words).T
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
        self.words = [np.zeros(size, dtype=WORD) for _ in range(self.n_words)]
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


def byte_sums(flags: npt.NDArray[np.bool_]) -> Words:
    """Per field (row of 8-byte words of 0/1 flags), how many flags are set."""
    packed = flags.view(WORD)
    total = (packed[:, 0] * _BYTE_SUM) >> _TOP
    for w in range(1, packed.shape[1]):
        total += (packed[:, w] * _BYTE_SUM) >> _TOP
    return total


def bytes_after_dot(is_dot: npt.NDArray[np.bool_]) -> Ints:
    """Per right-aligned field, how many bytes follow its dot (0 without one)."""
    packed = is_dot.view(WORD)
    n_words = packed.shape[1]
    total = np.zeros(packed.shape[0], dtype=np.uint64)
    for w in range(n_words):  # a word's byte i has 7 - i bytes after it, and 8 per word to its right
        total += (packed[:, w] * _BYTES_AFTER) >> _TOP
        total += ((packed[:, w] * _BYTE_SUM) >> _TOP) * np.uint64(8 * (n_words - 1 - w))
    return total.astype(np.intp)


def eight_digits(digits: npt.NDArray[np.uint8], word: int) -> Words:
    """The number each field's ``word``-th 8 digit values (0-9, first most significant) spell."""
    value = digits.view(WORD)[:, word].astype(np.uint64)  # pairs, then quads, then all eight
    value = (value * np.uint64(10) + (value >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    value = (value * np.uint64(100) + (value >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    return (value * np.uint64(10000) + (value >> np.uint64(32))) & np.uint64(0xFFFFFFFF)
