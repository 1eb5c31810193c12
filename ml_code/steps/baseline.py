"""Drift baseline of the raw training features, shaped like SageMaker Model Monitor's files.

``statistics.json`` follows Model Monitor's statistics schema (``dataset.item_count``; per
feature ``inferred_type`` and ``numerical_statistics`` with a 10-bucket distribution, or
``string_statistics`` with category counts) plus keys of our own per feature: ``missing_rate``
and, for numbers, ``quantiles`` and ``quantile_bins`` (decile edges and the share of training
values in each bin: the bins the drift check compares traffic in, robust to outliers where the
equal-width histogram is not). ``constraints.json`` follows
Model Monitor's constraints schema (completeness, non-negativity, allowed categories).
The model package registers both as its data-quality baseline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pandas as pd

from ml_code.features import normalize_category

VERSION: Final = 0.0
BUCKETS: Final = 10
QUANTILES: Final = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)
#: Numeric drift bins: interior edges at these quantiles (deciles), ties merged.
BIN_QUANTILES: Final = tuple(i / 10 for i in range(1, 10))
#: Beyond this many distinct values a string feature gets no domain constraint (an ID, free text).
MAX_DOMAIN_SIZE: Final = 100


def _is_numeric(column: pd.Series[Any]) -> bool:
    return bool(pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column))


def quantile_bins(values: np.ndarray[Any, Any]) -> dict[str, list[float]]:
    """Interior decile edges (distinct, ascending) and the share of ``values`` in each bin.

    Bin ``i`` holds ``edges[i-1] <= x < edges[i]`` (open-ended at both ends, so traffic outside
    the training range still lands in a bin); ``len(proportions) == len(edges) + 1``.
    """
    edges = np.unique(np.quantile(values, BIN_QUANTILES, method="lower"))  # data values: ties merge
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    return {"edges": [float(e) for e in edges], "proportions": [float(c) for c in counts / len(values)]}


def _numeric_stats(column: pd.Series[Any]) -> dict[str, Any]:
    values = column.dropna().to_numpy(dtype=np.float64)
    common = {"num_present": len(values), "num_missing": int(column.isna().sum())}
    if len(values) == 0:
        return {"common": common}
    exact = {"mean": float(values.mean()), "sum": float(values.sum()), "std_dev": float(values.std()),
             "min": float(values.min()), "max": float(values.max())}  # fmt: skip
    return numeric_statistics(common, exact, values)


def numeric_statistics(common: dict[str, int], exact: dict[str, float], values: Any) -> dict[str, Any]:
    """A numeric feature's statistics: ``exact`` (mean, sum, std_dev, min, max over every value) and
    the histogram over [min, max], the quantiles (their ends are min and max) and the decile bins of
    ``values`` (every value, or a uniform sample of them)."""
    lo, hi = exact["min"], exact["max"]
    counts, edges = np.histogram(values, bins=BUCKETS, range=(lo, hi))
    buckets = [
        {"lower_bound": float(a), "upper_bound": float(b), "count": int(n)}
        for a, b, n in zip(edges[:-1], edges[1:], counts, strict=True)
    ]
    quantiles = {str(q): float(np.quantile(values, q)) for q in QUANTILES}
    quantiles.update({"0.0": lo, "1.0": hi})
    return {
        "common": common, **exact, "distribution": {"kll": {"buckets": buckets}},
        "quantiles": quantiles, "quantile_bins": quantile_bins(values),
    }  # fmt: skip


def _string_stats(column: pd.Series[Any]) -> dict[str, Any]:
    counts = Counter(c for c in map(normalize_category, column) if c is not None)
    return string_statistics(len(column), counts)


def string_statistics(rows: int, counts: Mapping[str, int], present: int | None = None) -> dict[str, Any]:
    """A string feature's statistics from its count per (normalised) value over ``rows`` rows
    (``present``: rows with a value, when ``counts`` is a summary that leaves rare values out)."""
    present = sum(counts.values()) if present is None else present
    return {
        "common": {"num_present": present, "num_missing": rows - present},
        "distinct_count": len(counts),
        "distribution": {
            "categorical": {
                "buckets": [{"value": v, "count": n} for v, n in sorted(counts.items(), key=lambda kv: kv[0])]
            }
        },
    }


def compute_statistics(frame: pd.DataFrame) -> dict[str, Any]:
    """Model-Monitor-style statistics of every column of ``frame`` (pass the features only).

    Raises ValueError for a frame without rows or columns.
    """
    if frame.empty:
        raise ValueError("cannot compute a baseline of an empty frame")
    features = []
    for name in frame.columns:
        column = frame[name]
        missing_rate = float(column.isna().mean())
        if _is_numeric(column):
            present = column.dropna()
            integral = bool(pd.api.types.is_integer_dtype(column) or (present % 1 == 0).all())
            stats = {**_numeric_stats(column), "missing_rate": missing_rate}
            features.append({
                "name": str(name), "inferred_type": "Integral" if integral else "Fractional",
                "numerical_statistics": stats,
            })  # fmt: skip
        else:
            string = _string_stats(column)
            string["missing_rate"] = string["common"]["num_missing"] / len(column)
            features.append({"name": str(name), "inferred_type": "String", "string_statistics": string})
    return {"version": VERSION, "dataset": {"item_count": len(frame)}, "features": features}


def suggest_constraints(stats: dict[str, Any]) -> dict[str, Any]:
    """Model-Monitor-style constraints derived from :func:`compute_statistics` output.

    Raises KeyError when ``stats`` lacks the ``features`` list.
    """
    constraints = []
    for feature in stats["features"]:
        kind = "numerical_statistics" if "numerical_statistics" in feature else "string_statistics"
        common = feature[kind]["common"]
        total = common["num_present"] + common["num_missing"]
        entry: dict[str, Any] = {
            "name": feature["name"],
            "inferred_type": feature["inferred_type"],
            "completeness": common["num_present"] / total if total else 0.0,
        }
        if kind == "numerical_statistics":
            entry["num_constraints"] = {"is_non_negative": feature[kind].get("min", 0.0) >= 0}
        elif feature[kind]["distinct_count"] <= MAX_DOMAIN_SIZE:
            buckets = feature[kind]["distribution"]["categorical"]["buckets"]
            entry["string_constraints"] = {"domains": [b["value"] for b in buckets]}
        constraints.append(entry)
    return {
        "version": VERSION,
        "features": constraints,
        "monitoring_config": {
            "evaluate_constraints": "Enabled",
            "emit_metrics": "Enabled",
            "datatype_check_threshold": 1.0,
            "domain_content_threshold": 1.0,
            "distribution_constraints": {
                "perform_comparison": "Enabled",
                "comparison_threshold": 0.1,
                "comparison_method": "Robust",
            },
        },
    }
