"""Text as 64-bit words, for ml_code/serving/csv_columns.py: 8 bytes of a field in one uint64.

What it owns: the word type, per-field byte counts and the number eight digit bytes spell (a
few multiplications per word, no loop over bytes), for numbers longer than one word
(ml_code/serving/csv_numbers.py). csv_columns decides which bodies it may read and assembles the
feature matrix; csv_numbers and csv_categories read its fields.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.intp]
Words = npt.NDArray[np.uint64]

WORD: Final = np.dtype("<u8")  # 8 bytes of text, the first one lowest, whatever the host's order
_BYTE_SUM: Final = np.uint64(0x0101010101010101)  # (word * this) >> 56: the sum of its bytes
_BYTES_AFTER: Final = np.uint64(0x0706050403020100)  # (flags * this) >> 56: sum of 7 - index
_TOP: Final = np.uint64(56)


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
