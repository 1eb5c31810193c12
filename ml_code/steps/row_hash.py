"""Where a raw row goes, decided by a hash of the row itself (its field strings as read, and the seed),
never by its position: so every host, every chunk size and every order of files agree.

One 64-bit hash per row, from :func:`pandas.util.hash_pandas_object` (SipHash-2-4 of each field's
UTF-8 text, keyed by 16 bytes derived from the seed, combined column by column; missing fields hash
alike, whatever NA spelling the file used). It is vectorised (hashlib per row would cost a Python call
per row), and the same under the image's pins and ours (pandas 2.2.3 both); tests/unit/test_profile.py
pins known values, so a pandas upgrade that changed it fails a test instead of silently moving rows.

Of that hash: its top 53 bits make ``u`` in [0, 1) (test when ``u < test_fraction``, validation when
``u < test_fraction + validation_fraction``, else train), its low 32 bits mod T the training shard, and
the hash rotated by 32 bits the row's rank in the bottom-k samples (a uniform sample of the split).
Two refinements (:func:`place`'s optional arguments): ``u`` may come from another hash than the row's
(a row key's, so a key's rows share a split), and the two cuts may be per row instead of the fractions
(a class's own cuts, :mod:`strata`: a stratified split).
"""

from __future__ import annotations

import hashlib
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

#: Split codes, in the order the fractions cut [0, 1).
TEST: Final = 0
VALIDATION: Final = 1
TRAIN: Final = 2
SPLITS: Final[dict[str, int]] = {"train": TRAIN, "validation": VALIDATION, "test": TEST}

_TOP_BITS: Final = np.uint64(11)  # 64 - 53: u from the top 53 bits, exact in a float64
_LOW_32: Final = np.uint64(0xFFFFFFFF)
_HALF: Final = np.uint64(32)


class Placement(NamedTuple):
    """Per row: its split code, its training shard and its rank (smaller: earlier in the samples)."""

    split: npt.NDArray[np.int8]
    shard: npt.NDArray[np.int64]
    rank: npt.NDArray[np.uint64]


def hash_key(seed: int) -> str:
    """The 16-character SipHash key of ``seed``."""
    return hashlib.sha256(str(seed).encode()).hexdigest()[:16]


def row_hashes(frame: pd.DataFrame, seed: int) -> npt.NDArray[np.uint64]:
    """One uint64 per row of ``frame`` (raw string fields, NaN for missing), keyed by ``seed``."""
    if frame.empty:
        return np.zeros(0, dtype=np.uint64)
    hashed: pd.Series[Any] = pd.util.hash_pandas_object(frame, index=False, hash_key=hash_key(seed))
    return hashed.to_numpy(dtype=np.uint64)


def unit(hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.float64]:
    """Each hash's ``u`` in [0, 1): its top 53 bits, exact in a float64."""
    return (hashes >> _TOP_BITS).astype(np.float64) / float(2**53)


def rank_of(hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Each hash's rank in the bottom-k samples: the hash rotated by 32 bits."""
    return (hashes << _HALF) | (hashes >> _HALF)


def split_of(
    u: npt.NDArray[np.float64], test_below: float | npt.NDArray[np.float64],
    validation_below: float | npt.NDArray[np.float64],
) -> npt.NDArray[np.int8]:  # fmt: skip
    """Test when ``u < test_below``, else validation when ``u < validation_below``, else train."""
    return np.where(u < test_below, TEST, np.where(u < validation_below, VALIDATION, TRAIN)).astype(np.int8)


def check_fractions(validation_fraction: float, test_fraction: float) -> None:
    """Raises ValueError for fractions outside (0, 1) or summing to 1 or more."""
    if not (
        0 < validation_fraction < 1 and 0 < test_fraction < 1 and validation_fraction + test_fraction < 1
    ):
        raise ValueError(
            f"validation ({validation_fraction}) and test ({test_fraction}) fractions must be in (0, 1) "
            "and sum to less than 1"
        )


def place(
    hashes: npt.NDArray[np.uint64], *, validation_fraction: float, test_fraction: float, shards: int = 1,
    split_hashes: npt.NDArray[np.uint64] | None = None,
    cuts: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None,
) -> Placement:  # fmt: skip
    """Each row's split, shard (0..shards-1) and sample rank. The shard and the rank come from
    ``hashes`` (the rows'); the split from ``split_hashes`` (default: ``hashes``) against ``cuts``
    (per row: test below the first, validation below the second; default: the fractions)."""
    check_fractions(validation_fraction, test_fraction)
    if shards < 1:
        raise ValueError(f"shards must be at least 1, got {shards}")
    u = unit(hashes if split_hashes is None else split_hashes)
    below = (test_fraction, test_fraction + validation_fraction) if cuts is None else cuts
    shard = ((hashes & _LOW_32) % np.uint64(shards)).astype(np.int64)
    return Placement(split_of(u, below[0], below[1]), shard, rank_of(hashes))
