"""A stratified split from one pass over the data: per class, where its two cuts fall, mergeable.

A classification row goes to test when its ``u`` (:mod:`row_hash`) is below its class's test cut,
else to validation when below the class's validation cut, else to train. The cuts are chosen from
all of the class's rows so that ``round(rows * test_fraction)`` of them fall below the test cut and
``round(rows * (test_fraction + validation_fraction))`` below the validation cut: each class splits
in the configured fractions, exactly up to rounding (and up to rows that share a hash: equal rows
stay together).

One pass, any number of hosts: ``u`` is uniform, so a class's exact cut lies near its fraction ``f``
(the k-th of n uniform values is within ``f ± z·0.5/√n`` but for a chance below 1e-8 at z = 6). A
:class:`Stratum` keeps the class's raw rows whose ``u`` lies in a band of half-width
:func:`band_width` around each fraction, and only counts, per split, the rows outside the bands:
those are placed by the fraction whatever the exact cut turns out to be, so the profile takes them in
as they come. The band narrows as the class grows (every row while a class has at most a few
hundred; about ``12·√rows`` rows, at most :data:`BAND_ROWS`); a merge keeps the band of the merged
count (each host's band holds it: fewer rows, wider band), and :meth:`Strata.finish` sets the cuts
from the counts and the band's rows. Past ``BAND_ROWS`` (a class of about 700,000 rows and more) the
band is narrower than six standard deviations and a cut may fall outside it (past about 4 million
rows, z < 2.5: a chance over 1 %); then the cut is the band's edge nearest to it, and the class's
share is off by the rows between: its test share is still within ``±3·0.36/√rows`` of the fraction
(±0.05 percentage points at 4 million rows). More than :data:`MAX_STRATA` classes: not a
classification target (the profile check says so); every row is placed by the fractions.

A class is a label's :func:`stratum_keys` value: whole numbers by their canonical text, so ``1``,
``1.0`` and ``01`` are one class here as they are one label for the model
(:func:`ml_code.steps.raw_data.canonical_labels`); other labels by their text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from ml_code.steps.row_hash import TEST, VALIDATION, split_of, unit

#: Standard deviations of a cut's position the band covers (while under BAND_ROWS).
Z: Final = 6.0
#: Raw rows a class's band holds at most (both cuts together).
BAND_ROWS: Final = 10_000
#: Classes stratified at most (raw_data.MAX_CLASSES: more is not a classification target).
MAX_STRATA: Final = 100

Cuts = dict[str, tuple[float, float]]


def label_number(text: str) -> float | None:
    """A label's value when its text is a finite number, else None: the one rule by which label
    texts are numbers, for the strata here and for the model's labels
    (:func:`ml_code.steps.raw_data.canonical_labels`)."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _stratum_key(text: str) -> str:
    value = label_number(text)
    return str(int(value)) if value is not None and value.is_integer() else text


def stratum_keys(labels: pd.Series[str]) -> pd.Series[str]:
    """Each (stripped) label's class: a whole number's canonical text (``1.0`` -> ``1``), else the
    text itself (``yes``, ``1.5``: the latter is refused as a classification label anyway)."""
    return labels.map({text: _stratum_key(str(text)) for text in labels.unique()})


def band_width(rows: int) -> float:
    """The half-width of the band around each fraction for a class of ``rows`` rows: non-increasing in
    ``rows``, so a band of more rows lies inside the band of fewer."""
    if rows < 1:
        return 1.0
    return min(1.0, Z * 0.5 / math.sqrt(rows), BAND_ROWS / (4 * rows))


def in_band(
    u: npt.NDArray[np.float64], fractions: tuple[float, float], width: float
) -> npt.NDArray[np.bool_]:
    """Whether each ``u`` lies within ``width`` of either fraction (open intervals)."""
    return ((u > fractions[0] - width) & (u < fractions[0] + width)) | (
        (u > fractions[1] - width) & (u < fractions[1] + width)
    )


class Placed(NamedTuple):
    """Rows whose split is known: the raw rows, their hashes and their split codes."""

    rows: pd.DataFrame
    hashes: npt.NDArray[np.uint64]
    split: npt.NDArray[np.int8]


def _empty_rows(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@dataclass
class Stratum:
    """One class: its row count, rows placed by the fractions per split code, and its band's rows."""

    columns: list[str]
    rows: int = 0
    placed: list[int] = field(default_factory=lambda: [0, 0, 0])
    hashes: npt.NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    band: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __post_init__(self) -> None:
        if self.band.empty:
            self.band = _empty_rows(self.columns)

    def take(self, rows: pd.DataFrame, hashes: npt.NDArray[np.uint64], fractions: tuple[float, float],
             count: int) -> Placed:  # fmt: skip
        """Add ``rows`` (``count`` more rows of the class; none for a merge, which sets ``self.rows``);
        returns the rows, new or from the band, now outside the band, placed by the fractions."""
        self.rows += count
        hashes = np.concatenate([self.hashes, hashes])
        rows = pd.concat([self.band, rows[self.columns]], ignore_index=True) if len(rows) else self.band
        u = unit(hashes)
        keep = in_band(u, fractions, band_width(self.rows))
        split = split_of(u[~keep], *fractions)
        for code, n in enumerate(np.bincount(split, minlength=3)):
            self.placed[code] += int(n)
        order = np.argsort(hashes[keep], kind="stable")  # by hash: the same band in any order of rows
        self.hashes, self.band = hashes[keep][order], rows[keep].iloc[order].reset_index(drop=True)
        return Placed(rows[~keep], hashes[~keep], split)

    def cuts(self, fractions: tuple[float, float]) -> tuple[float, float]:
        """The class's test and validation cuts (see the module doc): ``round(rows * fraction)`` of its
        rows below each, or as near as the band allows."""
        width, u = band_width(self.rows), np.sort(unit(self.hashes))
        below = (self.placed[TEST], self.placed[TEST] + self.placed[VALIDATION])
        result = []
        for j, fraction in enumerate(fractions):
            wanted = math.floor(self.rows * fraction + 0.5)
            low = below[j] + (int((u <= fraction - width).sum()) if j else 0)
            band = u[(u > fraction - width) & (u < fraction + width)]
            i = min(max(wanted - low, 0), len(band))
            result.append(float(band[i]) if i < len(band) else fraction + width)
        return result[0], result[1]

    def to_dict(self) -> dict[str, Any]:
        values = self.band.astype(object).where(self.band.notna(), None).to_numpy().tolist()
        return {
            "rows": self.rows,
            "placed": self.placed,
            "hashes": [int(h) for h in self.hashes],
            "band": values,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], columns: list[str]) -> Stratum:
        band = pd.DataFrame(data["band"], columns=columns, dtype=object) if data["band"] else pd.DataFrame()
        hashes = np.array([int(h) for h in data["hashes"]], dtype=np.uint64)
        return cls(columns, int(data["rows"]), [int(n) for n in data["placed"]], hashes, band)


@dataclass
class Strata:
    """Every class's :class:`Stratum` (``overflow``: more than MAX_STRATA classes, none kept)."""

    fractions: tuple[float, float]  # test, test + validation
    columns: list[str]
    classes: dict[str, Stratum] = field(default_factory=dict)
    overflow: bool = False

    def add(self, rows: pd.DataFrame, labels: pd.Series[str], hashes: npt.NDArray[np.uint64]) -> list[Placed]:
        """Take in labelled ``rows`` (their stripped ``labels`` and row hashes); returns the rows placed."""
        if self.overflow:
            return [Placed(rows, hashes, split_of(unit(hashes), *self.fractions))]
        labels, out = stratum_keys(labels), []
        for label, where in labels.groupby(labels, sort=False).indices.items():
            stratum = self.classes.setdefault(str(label), Stratum(self.columns))
            out.append(stratum.take(rows.iloc[where], hashes[where], self.fractions, len(where)))
        return out + self._check_overflow()

    def merge(self, other: Strata) -> tuple[Strata, list[Placed]]:
        """The strata of both (a new one), and the rows the merge placed."""
        merged, out = Strata(self.fractions, self.columns, overflow=self.overflow or other.overflow), []
        for label in sorted({*self.classes, *other.classes}):
            mine, theirs = self.classes.get(label), other.classes.get(label)
            parts = [s for s in (mine, theirs) if s is not None]
            stratum = Stratum(
                self.columns,
                sum(s.rows for s in parts),
                [sum(n) for n in zip(*(s.placed for s in parts), strict=True)],
            )
            band = pd.concat([s.band for s in parts], ignore_index=True)
            out.append(stratum.take(band, np.concatenate([s.hashes for s in parts]), self.fractions, 0))
            merged.classes[label] = stratum
        return merged, out + merged._check_overflow()

    def _check_overflow(self) -> list[Placed]:
        """Past MAX_STRATA classes: every band's rows placed by the fractions, no class kept."""
        if not self.overflow and len(self.classes) <= MAX_STRATA:
            return []
        out = [
            Placed(s.band, s.hashes, split_of(unit(s.hashes), *self.fractions)) for s in self.classes.values()
        ]
        self.classes, self.overflow = {}, True
        return out

    def finish(self) -> tuple[Cuts, list[Placed]]:
        """Every class's cuts, and its band's rows placed by them."""
        cuts: Cuts = {}
        out = []
        for label, stratum in sorted(self.classes.items()):
            cuts[label] = stratum.cuts(self.fractions)
            out.append(Placed(stratum.band, stratum.hashes, split_of(unit(stratum.hashes), *cuts[label])))
        return cuts, out

    def to_dict(self) -> dict[str, Any]:
        classes = {label: s.to_dict() for label, s in sorted(self.classes.items())}
        return {"fractions": list(self.fractions), "overflow": self.overflow, "classes": classes}

    @classmethod
    def from_dict(cls, data: dict[str, Any], columns: list[str]) -> Strata:
        classes = {str(k): Stratum.from_dict(v, columns) for k, v in data["classes"].items()}
        fractions = (float(data["fractions"][0]), float(data["fractions"][1]))
        return cls(fractions, columns, classes, bool(data["overflow"]))
