"""A bottom-k sample: the ``k`` rows with the smallest rank (a bit rotation of the row hash).

Since the hash is uniform and does not depend on where a row sits, the k smallest ranks are a uniform
sample of the rows without replacement; the sample of two sets of rows is the bottom k of the two
samples together (mergeable, associative, commutative), so it is the same whatever the number of
hosts or the chunk size; and it is every row while there are at most ``k``. Equal ranks mean equal
rows (the same text hashes alike), so which of two equal ranks is kept does not change the sample.
That is why everything fitted from a sampled value comes from it (:mod:`profile_fit`): medians,
quantiles and bins, and the top categories and baseline buckets of a feature past the category cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd


@dataclass
class BottomK:
    """At most ``k`` raw rows (text, NaN for missing) and their ranks, ascending by rank."""

    k: int
    columns: list[str]
    ranks: npt.NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __post_init__(self) -> None:
        if self.rows.empty:
            self.rows = pd.DataFrame({c: pd.Series(dtype=object) for c in self.columns})

    def add(self, ranks: npt.NDArray[np.uint64], rows: pd.DataFrame) -> None:
        """Keep the bottom k of the sample and ``rows`` (ranked by ``ranks``)."""
        if len(self.ranks) >= self.k and len(ranks):
            keep = ranks <= self.ranks[-1]  # nothing above the current k-th can enter
            ranks, rows = ranks[keep], rows[keep]
        if len(ranks) > self.k:
            best = np.argpartition(ranks, self.k - 1)[: self.k]
            ranks, rows = ranks[best], rows.iloc[best]
        if not len(ranks):
            return
        all_ranks = np.concatenate([self.ranks, ranks])
        all_rows = pd.concat([self.rows, rows[self.columns]], ignore_index=True)
        order = np.argsort(all_ranks, kind="stable")[: self.k]
        self.ranks, self.rows = all_ranks[order], all_rows.iloc[order].reset_index(drop=True)

    def merge(self, other: BottomK) -> BottomK:
        """The bottom k of both samples (a new sample)."""
        merged = BottomK(self.k, self.columns, self.ranks.copy(), self.rows.copy())
        merged.add(other.ranks, other.rows)
        return merged

    def to_dict(self) -> dict[str, Any]:
        values = self.rows.astype(object).where(self.rows.notna(), None).to_numpy().tolist()
        return {"k": self.k, "ranks": [int(r) for r in self.ranks], "rows": values}

    @classmethod
    def from_dict(cls, data: dict[str, Any], columns: list[str]) -> BottomK:
        rows = pd.DataFrame(data["rows"], columns=columns, dtype=object) if data["rows"] else pd.DataFrame()
        ranks = np.array([int(r) for r in data["ranks"]], dtype=np.uint64)
        return cls(int(data["k"]), columns, ranks, rows)
