"""Where labelled raw rows go under a profile's settings (``Settings.place`` in :mod:`profile`).

A row's shard and sample rank always come from its own hash (:mod:`row_hash`). Its split comes from
its key's hash when columns are declared ``identifier`` (``--column NAME=identifier``): rows with the
same values in those columns share a split, whichever file, chunk or host they are in (a row whose key
fields are all missing or blank uses its own hash). Against: the fractions (regression, or any problem
with a key), or, for classification without a key, its class's own cuts (:mod:`strata`), which make
each class split in the fractions. With a key the split stays by the fractions of the keys' hashes, so
a class's share is near the fractions but not exact: a key's rows may hold several classes, and one
split for them all is what keeps a key's rows from straddling.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from ml_code.steps.chunks import stripped
from ml_code.steps.row_hash import Placement, place, row_hashes
from ml_code.steps.strata import Cuts, stratum_keys


def key_hashes(
    chunk: pd.DataFrame, key: Sequence[str], seed: int, hashes: npt.NDArray[np.uint64]
) -> npt.NDArray[np.uint64]:
    """Per row: the hash of its ``key`` columns; the row's own hash (``hashes``) where all are missing."""
    fields = chunk[list(key)]
    present = np.zeros(len(chunk), dtype=bool)
    for name in key:
        values = fields[name]
        present |= (values.notna() & (stripped(values) != "")).to_numpy(dtype=bool)
    return np.where(present, row_hashes(fields, seed), hashes)


def class_cuts(
    labels: pd.Series[str], cuts: Cuts, fractions: tuple[float, float]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per row, its class's test and validation cuts (the fractions for a class without cuts);
    ``labels`` are the rows' stripped labels, whose classes (:func:`stratum_keys`) the cuts are of."""
    classes = stratum_keys(labels)
    test, validation = (
        classes.map({label: cut[j] for label, cut in cuts.items()}).astype(np.float64).fillna(fractions[j])
        for j in (0, 1)
    )
    return test.to_numpy(dtype=np.float64), validation.to_numpy(dtype=np.float64)


def place_rows(
    chunk: pd.DataFrame, *, seed: int, validation_fraction: float, test_fraction: float, shards: int,
    key: Sequence[str] = (), target: str = "", cuts: Cuts | None = None,
    hashes: npt.NDArray[np.uint64] | None = None,
) -> Placement:  # fmt: skip
    """Each labelled row's split, shard and rank (see the module doc); ``cuts`` per class of
    ``chunk[target]`` (stripped), or None for the fractions; ``hashes``: the rows', when known."""
    hashes = row_hashes(chunk, seed) if hashes is None else hashes
    split_hashes = key_hashes(chunk, key, seed, hashes) if key else None
    fractions = (test_fraction, test_fraction + validation_fraction)
    per_row = None if cuts is None else class_cuts(stripped(chunk[target]), cuts, fractions)
    return place(hashes, validation_fraction=validation_fraction, test_fraction=test_fraction, shards=shards,
                 split_hashes=split_hashes, cuts=per_row)  # fmt: skip
