"""What the drift check found, and the three report files it renders.

- ``constraint_violations.json`` (contract.VIOLATIONS_FILE): Model Monitor's shape,
  ``{"violations": [{"feature_name", "constraint_check_type", "description"}]}``;
- ``drift_metrics.json`` (contract.DRIFT_METRICS_FILE): per-feature numbers for CloudWatch;
- ``drift_distributions.json`` (:data:`DISTRIBUTIONS_FILE`): bins and shares, for the chart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

#: Fewer recent records than this and distances are reported but not judged.
MIN_RECORDS: Final = 50
#: Our third report file: per-feature bins and shares (what the drift chart draws).
DISTRIBUTIONS_FILE: Final = "drift_distributions.json"


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's numbers, the checks it failed (check type -> description) and its bins.

    ``threshold`` is the bar the distance had to pass: the configured threshold, or the noise
    floor when that is higher (few records).
    """

    feature_name: str
    distance: float
    threshold: float
    missing_rate: float
    unseen_categories: int
    violations: dict[str, str] = field(default_factory=dict)
    bins: tuple[str, ...] = ()
    baseline_shares: tuple[float, ...] = ()
    recent_shares: tuple[float, ...] = ()

    @property
    def drifted(self) -> bool:
        return "data_drift_check" in self.violations


@dataclass(frozen=True)
class DriftResult:
    """Every feature's drift, how many records were compared, and whether that was enough."""

    records: int
    features: list[FeatureDrift]
    min_records: int = MIN_RECORDS

    @property
    def enough_data(self) -> bool:
        return self.records >= self.min_records

    @property
    def violations(self) -> list[dict[str, str]]:
        """Model Monitor's ``constraint_violations.json`` entries, feature by feature."""
        return [
            {"feature_name": f.feature_name, "constraint_check_type": kind, "description": text}
            for f in self.features
            for kind, text in sorted(f.violations.items())
        ]

    def violations_report(self) -> dict[str, Any]:
        """The ``constraint_violations.json`` document."""
        return {"violations": self.violations}

    def metrics_report(self, endpoint_name: str) -> dict[str, Any]:
        """The ``drift_metrics.json`` document the metrics publisher reads (all numbers finite)."""
        return {
            "endpoint_name": endpoint_name,
            "records": self.records,
            "violations": len(self.violations),
            "features": [
                {"feature_name": f.feature_name, "distance": round(f.distance, 6),
                 "threshold": round(f.threshold, 6), "missing_rate": round(f.missing_rate, 6),
                 "unseen_categories": f.unseen_categories, "drifted": f.drifted}
                for f in self.features
            ],
        }  # fmt: skip

    def distributions_report(self) -> dict[str, Any]:
        """The ``drift_distributions.json`` document: bins and shares per feature, and whether
        there were enough records to judge drift at all."""
        return {
            "records": self.records,
            "min_records": self.min_records,
            "enough_records": self.enough_data,
            "features": [
                {"feature_name": f.feature_name, "bins": list(f.bins),
                 "baseline": list(f.baseline_shares), "recent": list(f.recent_shares)}
                for f in self.features
            ],
        }  # fmt: skip
