"""What a profile knows of one raw feature over the training rows, and of a set of values' counts;
both mergeable (merge is commutative; associative where exact, see :class:`CategoryCounts`).

A feature is numeric when every present training value parses as a finite number (so a boolean
column, ``True``/``False``, is not); its count, missing values, exact sums (:mod:`moments`), min, max
and whether every value is whole are exact. Its category counts are exact while it has at most
``cap`` distinct values; beyond, a Misra-Gries summary of ``cap`` counters (Agarwal et al., mergeable
summaries, 2012): each kept count is low by at most (rows / (cap + 1)), values rarer than that may be
dropped, and a merge of summaries may depend on the order of merging. Whether a feature is past the
cap (``approximate``) does not: it is whether its training rows hold more than ``cap`` distinct values.
Only features with that many distinct values get there (an ID, free text), and nothing fitted reads
their summary: their top categories and baseline buckets come from the bottom-k sample
(:mod:`profile_fit`), the same rows for any number of hosts and any chunk size.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from ml_code.steps.chunks import BOOLEANS
from ml_code.steps.moments import exact_sums, from_text, to_text

#: Distinct values counted exactly per feature (and label counts per profile).
CATEGORY_CAP: Final = 10_000
_INTEGER_TEXT: Final = re.compile(r"\s*[+-]?\d+\s*")


@dataclass
class CategoryCounts:
    """Counts per value: exact while at most ``cap`` values, else a Misra-Gries summary."""

    cap: int = field(default_factory=lambda: CATEGORY_CAP)  # read when made, not when imported
    counts: dict[str, int] = field(default_factory=dict)
    approximate: bool = False

    def merge(self, other: CategoryCounts) -> CategoryCounts:
        counts = dict(self.counts)
        for value, n in other.counts.items():
            counts[value] = counts.get(value, 0) + n
        approximate = self.approximate or other.approximate
        if len(counts) > self.cap:
            floor = sorted(counts.values(), reverse=True)[self.cap]  # the (cap + 1)-th largest count
            counts = {v: n - floor for v, n in counts.items() if n > floor}
            approximate = True
        return CategoryCounts(self.cap, counts, approximate)

    def to_dict(self) -> dict[str, Any]:
        return {"cap": self.cap, "approximate": self.approximate, "counts": dict(sorted(self.counts.items()))}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoryCounts:
        counts = {str(k): int(v) for k, v in data["counts"].items()}
        return cls(int(data["cap"]), counts, bool(data["approximate"]))

    @classmethod
    def of(cls, values: pd.Series[str], cap: int | None = None) -> CategoryCounts:
        """Exact counts of ``values`` (then capped as a merge would; ``cap`` default: CATEGORY_CAP)."""
        return cls.of_counts(values.value_counts(sort=False).items(), cap)

    @classmethod
    def of_counts(cls, pairs: Iterable[tuple[Any, int]], cap: int | None = None) -> CategoryCounts:
        """Counts from (value, count) pairs, a value's count summed over its repeats."""
        counts: dict[str, int] = {}
        for value, n in pairs:
            counts[str(value)] = counts.get(str(value), 0) + int(n)
        cap = CATEGORY_CAP if cap is None else cap
        return CategoryCounts(cap).merge(CategoryCounts(cap, counts))


@dataclass
class FeatureProfile:
    """One raw feature over the training rows (see the module doc)."""

    count: int = 0  # training rows
    missing: int = 0  # read as missing (pandas' NA strings)
    blank: int = 0  # present but only whitespace: missing for a category, not a number
    numeric: bool = True
    boolean: bool = True
    integral: bool = True
    integer_text: bool = True
    total: int = 0  # exact sums (moments), while numeric
    squares: int = 0
    minimum: float | None = None
    maximum: float | None = None
    categories: CategoryCounts = field(default_factory=CategoryCounts)

    @property
    def present(self) -> int:
        return self.count - self.missing

    @classmethod
    def of(cls, column: pd.Series[str], numeric: bool = True) -> FeatureProfile:
        """The profile of one chunk's training values of a feature (text, NaN for missing);
        ``numeric=False`` (already known not to be) skips parsing the values as numbers."""
        present = column.dropna()
        profile = cls(count=len(column), missing=len(column) - len(present))
        # per distinct text, not per row: a column has far fewer values than rows, as a rule
        texts = {str(text): int(n) for text, n in present.value_counts(sort=False).items()}
        stripped = [(text.strip(), n) for text, n in texts.items()]
        profile.blank = sum(n for text, n in stripped if not text)
        profile.boolean = all(text in BOOLEANS for text in texts)
        profile.categories = CategoryCounts.of_counts((text, n) for text, n in stripped if text)
        if not numeric or (profile.boolean and len(present)):
            profile.numeric = profile.integral = profile.integer_text = False
            return profile
        numbers = pd.to_numeric(present, errors="coerce").to_numpy(dtype=np.float64)
        profile.numeric = bool(np.isfinite(numbers).all())
        if profile.numeric and len(numbers):
            profile.integral = bool((numbers % 1 == 0).all())
            profile.integer_text = profile.integral and all(_INTEGER_TEXT.fullmatch(t) for t in texts)
            profile.total, profile.squares = exact_sums(numbers)
            profile.minimum, profile.maximum = float(numbers.min()), float(numbers.max())
        return profile

    def merge(self, other: FeatureProfile) -> FeatureProfile:
        numeric = self.numeric and other.numeric
        bounds = [b for b in (self.minimum, other.minimum) if b is not None]
        tops = [b for b in (self.maximum, other.maximum) if b is not None]
        return FeatureProfile(
            count=self.count + other.count,
            missing=self.missing + other.missing,
            blank=self.blank + other.blank,
            numeric=numeric,
            boolean=self.boolean and other.boolean,
            integral=numeric and self.integral and other.integral,
            integer_text=numeric and self.integer_text and other.integer_text,
            total=self.total + other.total if numeric else 0,
            squares=self.squares + other.squares if numeric else 0,
            minimum=min(bounds) if numeric and bounds else None,
            maximum=max(tops) if numeric and tops else None,
            categories=self.categories.merge(other.categories),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count, "missing": self.missing, "blank": self.blank, "numeric": self.numeric,
            "boolean": self.boolean, "integral": self.integral, "integer_text": self.integer_text,
            "total": to_text(self.total), "squares": to_text(self.squares),
            "minimum": self.minimum, "maximum": self.maximum, "categories": self.categories.to_dict(),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureProfile:
        return cls(
            count=int(data["count"]), missing=int(data["missing"]), blank=int(data["blank"]),
            numeric=bool(data["numeric"]), boolean=bool(data["boolean"]), integral=bool(data["integral"]),
            integer_text=bool(data["integer_text"]), total=from_text(data["total"]),
            squares=from_text(data["squares"]), minimum=data["minimum"], maximum=data["maximum"],
            categories=CategoryCounts.from_dict(data["categories"]),
        )  # fmt: skip
