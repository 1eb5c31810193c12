"""Drift of recent traffic against a model version's training baseline, feature by feature.

Per feature (all from ``statistics.json``/``constraints.json``, see ml_code.steps.baseline):

- ``data_drift_check``: JS distance between the baseline's and the traffic's distribution (numbers
  in the baseline's decile bins, strings over category shares) above the feature's threshold
  *and* above the sampling-noise floor for this many records (ml_code.drift.stats);
- ``completeness_check``: missing share above the baseline's plus the tolerance, significantly;
- ``unseen_category_check``: share of records with categories training never saw above tolerance;
- ``missing_column_check`` / ``data_type_check``: the column is absent / values are not numbers.

A date feature (its statistics carry ``date_reference``) is compared on its days since that day.
Below :data:`MIN_RECORDS` records only the schema checks are judged ("not enough records").
The result and its report files are in ml_code.drift.report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ml_code.drift.report import DISTRIBUTIONS_FILE, MIN_RECORDS, DriftResult, FeatureDrift
from ml_code.drift.stats import DEFAULT_ALPHA, js_distance, noise_floor, numeric_bins, occupied, rate_exceeds
from ml_code.feature_dates import parse_date
from ml_code.features import normalize_category


def days_since(column: pd.Series[Any], reference: str) -> pd.Series[Any]:
    """Each value's days since the ISO day ``reference``; NaN for a missing value or one that is not a
    date (the transformer counts it as missing too)."""
    start = parse_date(reference)
    assert start is not None

    def days(value: object) -> float:
        day = parse_date(value)
        return float("nan") if day is None else float((day - start).days)

    return column.map(days).astype(np.float64)


__all__ = ["DISTRIBUTIONS_FILE", "MIN_RECORDS", "DriftResult", "FeatureDrift", "Settings", "compare"]


@dataclass(frozen=True)
class Settings:
    """How strict the check is: default and per-feature distance thresholds, missing tolerance."""

    threshold: float = 0.2
    feature_thresholds: Mapping[str, float] = field(default_factory=dict)
    missing_tolerance: float = 0.05
    alpha: float = DEFAULT_ALPHA
    min_records: int = MIN_RECORDS

    def __post_init__(self) -> None:
        """Raises ValueError for a threshold outside (0, 1] or a tolerance/alpha outside (0, 1)."""
        object.__setattr__(self, "feature_thresholds", dict(self.feature_thresholds or {}))
        for name, value in {"threshold": self.threshold, **self.feature_thresholds}.items():
            if not 0 < value <= 1:
                raise ValueError(f"drift threshold for {name} must be in (0, 1], got {value}")
        if not 0 <= self.missing_tolerance < 1 or not 0 < self.alpha < 1:
            raise ValueError(f"missing tolerance must be in [0, 1), alpha in (0, 1); got {self}")


def compare(
    recent: pd.DataFrame, statistics: Mapping[str, Any], constraints: Mapping[str, Any],
    settings: Settings | None = None, **overrides: Any,
) -> DriftResult:  # fmt: skip
    """Compare ``recent`` raw feature records with the baseline; see the module docstring.

    ``overrides`` are :class:`Settings` fields (``threshold=0.3``). Raises KeyError when
    ``statistics`` has no ``features``, ValueError for invalid settings.
    """
    config = settings or Settings(**overrides)
    domains = {
        c["name"]: set(c["string_constraints"].get("domains", []))
        for c in constraints.get("features", [])
        if "string_constraints" in c
    }
    results = []
    for feature in statistics["features"]:
        name = feature["name"]
        limit = config.feature_thresholds.get(name, config.threshold)
        if name not in recent.columns:
            absent = {"missing_column_check": f"{name}: column absent from the captured requests"}
            results.append(FeatureDrift(name, 0.0, limit, 1.0, 0, absent) if len(recent) else
                           FeatureDrift(name, 0.0, limit, 0.0, 0))  # fmt: skip
            continue
        check = _Check(name, limit, config, enough=len(recent) >= config.min_records)
        if "date_reference" in feature:  # a date feature's baseline is on its days number
            results.append(check.numeric(days_since(recent[name], feature["date_reference"]),
                                         feature["numerical_statistics"]))  # fmt: skip
        elif "numerical_statistics" in feature:
            results.append(check.numeric(recent[name], feature["numerical_statistics"]))
        else:
            results.append(check.string(recent[name], feature["string_statistics"], domains.get(name)))
    return DriftResult(records=len(recent), features=results, min_records=config.min_records)


@dataclass
class _Check:
    name: str
    limit: float
    config: Settings
    enough: bool
    violations: dict[str, str] = field(default_factory=dict)

    def _missing(self, rate: float, n: int, stats: Mapping[str, Any]) -> None:
        base, tol = float(stats.get("missing_rate", 0.0)), self.config.missing_tolerance
        if self.enough and rate_exceeds(rate, n, base, tol, self.config.alpha):
            self.violations["completeness_check"] = (
                f"{self.name}: {rate:.1%} missing vs {base:.1%} in training (+{tol:.0%} allowed)"
            )

    def _finish(self, base: np.ndarray[Any, Any], recent: np.ndarray[Any, Any], missing: float,
                unseen: int, labels: list[str]) -> FeatureDrift:  # fmt: skip
        distance = js_distance(base, recent)
        floor = noise_floor(occupied(base, recent), int(recent.sum()), int(base.sum()), self.config.alpha)
        bar = max(self.limit, floor) if len(labels) else self.limit
        if self.enough and distance > bar:
            why = f"threshold {self.limit:.3f}" + (f", noise floor {floor:.3f}" if floor > self.limit else "")
            self.violations["data_drift_check"] = f"{self.name}: distance {distance:.3f} exceeds {why}"
        shares = [
            tuple(float(x) for x in v / v.sum()) if v.sum() else (0.0,) * len(v) for v in (base, recent)
        ]
        return FeatureDrift(
            self.name, distance, bar, missing, unseen, self.violations, tuple(labels), *shares
        )

    def numeric(self, column: pd.Series[Any], stats: Mapping[str, Any]) -> FeatureDrift:
        blank = column.map(lambda v: isinstance(v, str) and not v.strip()).astype(bool)
        cleaned = column.mask(blank)
        values = pd.to_numeric(cleaned, errors="coerce").replace([np.inf, -np.inf], np.nan)
        bad = int((values.isna() & cleaned.notna()).sum())
        if len(column) and bad / len(column) > self.config.missing_tolerance:
            self.violations["data_type_check"] = f"{self.name}: {bad} of {len(column)} values are not numbers"
        missing = float(values.isna().mean()) if len(values) else 0.0
        self._missing(missing, len(values), stats)
        labels, base, recent = numeric_bins(stats, values.dropna().to_numpy(dtype=np.float64))
        return self._finish(base, recent, missing, 0, labels)

    def string(
        self, column: pd.Series[Any], stats: Mapping[str, Any], domain: set[str] | None
    ) -> FeatureDrift:
        present = [c for c in map(normalize_category, column) if c is not None]
        missing = 1 - len(present) / len(column) if len(column) else 0.0
        self._missing(missing, len(column), stats)
        buckets = stats.get("distribution", {}).get("categorical", {}).get("buckets", [])
        baseline = {b["value"]: float(b["count"]) for b in buckets}
        unseen = [v for v in present if v not in (domain if domain is not None else baseline)]
        if present and len(unseen) / len(present) > self.config.missing_tolerance:
            sample = ", ".join(sorted(set(unseen))[:5])
            self.violations["unseen_category_check"] = (
                f"{self.name}: {len(unseen)} of {len(present)} records have categories "
                f"unseen in training ({sample})"
            )
        counts = pd.Series(present, dtype=object).value_counts()
        categories = sorted(set(baseline) | set(counts.index))
        base = np.array([baseline.get(c, 0.0) for c in categories])
        recent = np.array([float(counts.get(c, 0)) for c in categories])
        return self._finish(base, recent, missing, len(unseen), categories)
