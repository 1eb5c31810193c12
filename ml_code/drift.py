"""Drift of recent traffic against a model version's training baseline, feature by feature.

Numeric features: Jensen-Shannon distance (base 2, 0 = same, 1 = disjoint) between the baseline's
histogram (its 10 buckets; values outside the training range fall in the end buckets) and the
recent values in the same buckets. String features: the same distance over category shares, plus
the share of records with categories never seen in training. Every feature also gets a missing-value
check against its baseline completeness, and a schema check (column absent, numbers that are not).

JS distance is bounded and defined when a bucket is empty, unlike PSI or KL; with a few hundred
records its sampling noise is ~0.05-0.1, so the default threshold 0.2 flags real shifts only
(the false-alarm rate is measured in tests/unit/test_drift.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from ml_code.features import normalize_category

#: Fewer recent records than this and the check reports "not enough data" instead of guessing.
MIN_RECORDS: Final = 50


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's numbers and the checks it failed (``constraint_check_type`` → description)."""

    feature_name: str
    distance: float
    threshold: float
    missing_rate: float
    unseen_categories: int
    violations: dict[str, str] = field(default_factory=dict)

    @property
    def drifted(self) -> bool:
        return "data_drift_check" in self.violations


@dataclass(frozen=True)
class DriftResult:
    """Every feature's drift, how many records were compared, and whether there were enough."""

    records: int
    features: list[FeatureDrift]
    enough_data: bool

    @property
    def violations(self) -> list[dict[str, str]]:
        """Model Monitor's ``constraint_violations.json`` entries."""
        return [
            {"feature_name": f.feature_name, "constraint_check_type": kind, "description": text}
            for f in self.features
            for kind, text in sorted(f.violations.items())
        ]

    def violations_report(self) -> dict[str, Any]:
        return {"violations": self.violations}

    def metrics_report(self, endpoint_name: str) -> dict[str, Any]:
        """The ``drift_metrics.json`` the metrics publisher reads."""
        return {
            "endpoint_name": endpoint_name,
            "records": self.records,
            "violations": len(self.violations),
            "features": [
                {
                    "feature_name": f.feature_name,
                    "distance": round(f.distance, 6),
                    "threshold": f.threshold,
                    "missing_rate": round(f.missing_rate, 6),
                    "unseen_categories": f.unseen_categories,
                    "drifted": f.drifted,
                }
                for f in self.features
            ],
        }


def js_distance(p: np.ndarray[Any, Any], q: np.ndarray[Any, Any]) -> float:
    """Jensen-Shannon distance (base 2) of two count or share vectors; 0.0 when either is empty."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.sum() <= 0 or q.sum() <= 0:
        return 0.0
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a: np.ndarray[Any, Any]) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log2(a[mask] / m[mask])))

    return float(np.sqrt(max(0.0, (kl(p) + kl(q)) / 2)))


def compare(
    recent: pd.DataFrame,
    statistics: Mapping[str, Any],
    constraints: Mapping[str, Any],
    *,
    threshold: float = 0.2,
    feature_thresholds: Mapping[str, float] | None = None,
    missing_tolerance: float = 0.05,
) -> DriftResult:
    """Compare ``recent`` raw feature records with the baseline; see the module docstring."""
    domains = {
        c["name"]: set(c.get("string_constraints", {}).get("domains", []))
        for c in constraints.get("features", [])
        if "string_constraints" in c
    }
    enough = len(recent) >= MIN_RECORDS
    results = []
    for feature in statistics["features"]:
        name = feature["name"]
        limit = (feature_thresholds or {}).get(name, threshold)
        if name not in recent.columns:
            results.append(
                FeatureDrift(
                    name, 0.0, limit, 1.0, 0, {"missing_column_check": f"{name} is absent from traffic"}
                )
            )
            continue
        column = recent[name]
        tol = missing_tolerance
        if "numerical_statistics" in feature:
            stats = feature["numerical_statistics"]
            results.append(_numeric(name, column, stats=stats, limit=limit, tol=tol, enough=enough))
        else:
            stats, domain = feature["string_statistics"], domains.get(name)
            results.append(
                _string(name, column, stats=stats, domain=domain, limit=limit, tol=tol, enough=enough)
            )
    return DriftResult(records=len(recent), features=results, enough_data=enough)


def _missing(name: str, rate: float, baseline_rate: float, tolerance: float, out: dict[str, str]) -> None:
    if rate > baseline_rate + tolerance:
        out["completeness_check"] = (
            f"{name}: {rate:.1%} missing vs {baseline_rate:.1%} in training (+{tolerance:.0%} allowed)"
        )


def _numeric(
    name: str, column: pd.Series[Any], *, stats: Mapping[str, Any], limit: float, tol: float, enough: bool
) -> FeatureDrift:
    values = pd.to_numeric(column, errors="coerce")
    bad_type = int((values.isna() & column.notna()).sum())
    violations: dict[str, str] = {}
    if len(column) and bad_type / len(column) > tol:
        violations["data_type_check"] = f"{name}: {bad_type} of {len(column)} values are not numbers"
    missing = float(values.isna().mean()) if len(values) else 0.0
    _missing(name, missing, float(stats.get("missing_rate", 0.0)), tol, violations)
    buckets = stats.get("distribution", {}).get("kll", {}).get("buckets", [])
    present = values.dropna().to_numpy(dtype=np.float64)
    distance = 0.0
    if buckets and len(present):
        edges = np.array([b["lower_bound"] for b in buckets] + [buckets[-1]["upper_bound"]])
        index = np.clip(np.searchsorted(edges, present, side="right") - 1, 0, len(buckets) - 1)
        recent_counts = np.bincount(index, minlength=len(buckets))
        distance = js_distance(np.array([b["count"] for b in buckets]), recent_counts)
    if enough and distance > limit:
        violations["data_drift_check"] = f"{name}: distribution distance {distance:.3f} exceeds {limit:.3f}"
    return FeatureDrift(name, distance, limit, missing, 0, violations)


def _string(
    name: str,
    column: pd.Series[Any],
    *,
    stats: Mapping[str, Any],
    domain: set[str] | None,
    limit: float,
    tol: float,
    enough: bool,
) -> FeatureDrift:
    values = [normalize_category(v) for v in column]
    present = [v for v in values if v is not None]
    violations: dict[str, str] = {}
    missing = 1 - len(present) / len(values) if values else 0.0
    _missing(name, missing, float(stats.get("missing_rate", 0.0)), tol, violations)
    baseline = {
        b["value"]: b["count"]
        for b in stats.get("distribution", {}).get("categorical", {}).get("buckets", [])
    }
    unseen = [v for v in present if v not in (domain if domain is not None else baseline)]
    if present and len(unseen) / len(present) > tol:
        sample = ", ".join(sorted(set(unseen))[:5])
        violations["unseen_category_check"] = (
            f"{name}: {len(unseen)} records with unseen categories ({sample})"
        )
    categories = sorted(set(baseline) | set(present))
    recent_counts = pd.Series(present, dtype=object).value_counts()
    distance = js_distance(
        np.array([baseline.get(c, 0) for c in categories]),
        np.array([int(recent_counts.get(c, 0)) for c in categories]),
    )
    if enough and distance > limit:
        violations["data_drift_check"] = f"{name}: category mix distance {distance:.3f} exceeds {limit:.3f}"
    return FeatureDrift(name, distance, limit, missing, len(unseen), violations)
