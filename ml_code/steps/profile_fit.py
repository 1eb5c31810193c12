"""What preprocess fits from the merged profile: the feature transformer (transformer.json, as
:meth:`FeatureTransformer.fit` writes it) and the drift baseline (statistics.json), both over the model
inputs only: each column's role (:mod:`feature_report`, :mod:`ml_code.column_roles`) says which. A date
feature's reference day and median come from the sample's dates; its baseline is numeric, over its days
number, with the feature's ``date_reference`` (the drift check counts traffic's days from it).

Exact from the profile: row and missing counts, category counts (up to the cap, see
:mod:`feature_profile`), sum, mean, standard deviation, min and max. From the bottom-k sample of the
training rows (every training row when there are at most k): medians, quantiles, histogram counts
and decile bins, and for a feature with more distinct values than the cap (an ID, free text) its
top categories and its category buckets: the sample's up to ``cap`` most frequent values, counts
scaled to the feature's exact number of present values (largest remainders, so they add up to it
when none is left out). Its distinct count says "more than the cap" (cap + 1), so no domain
constraint is drawn. All of it is the same for any number of hosts and any chunk size.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ml_code.column_roles import ColumnRole
from ml_code.errors import DataValidationError
from ml_code.feature_columns import date_spec
from ml_code.feature_dates import parse_date
from ml_code.features import MAX_CATEGORIES, FeatureTransformer
from ml_code.steps.baseline import VERSION, numeric_statistics, string_statistics
from ml_code.steps.chunks import BOOLEANS
from ml_code.steps.feature_profile import FeatureProfile
from ml_code.steps.feature_report import column_roles, sample_texts
from ml_code.steps.moments import mean_std
from ml_code.steps.profile import Profile
from ml_code.steps.raw_data import labels_of


def sample_numbers(profile: Profile, name: str) -> npt.NDArray[np.float64]:
    """The present values of numeric feature ``name`` in the training sample, as floats."""
    column = profile.sample.rows[name].dropna()
    return pd.to_numeric(column).to_numpy(dtype=np.float64)


def category_counts(feature: FeatureProfile) -> dict[str, int]:
    """Counts per category; a boolean feature's spellings counted as ``True``/``False``."""
    if not feature.boolean:
        return feature.categories.counts
    counts: dict[str, int] = {}
    for value, n in feature.categories.counts.items():
        key = BOOLEANS.get(value, value)
        counts[key] = counts.get(key, 0) + n
    return counts


def sample_categories(profile: Profile, name: str) -> dict[str, int]:
    """Counts per value (stripped, blanks left out, as the profile counts) of feature ``name`` in
    the training sample."""
    texts = profile.sample.rows[name].dropna().astype(str).str.strip()
    return {str(v): int(n) for v, n in texts[texts != ""].value_counts(sort=False).items()}


def top(counts: dict[str, int], keep: int) -> list[tuple[str, int]]:
    """The ``keep`` largest counts, ties by value (so the choice depends on the counts alone)."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:keep]


def scaled(counts: dict[str, int], total: int, keep: int) -> dict[str, int]:
    """The ``keep`` largest of ``counts``, each scaled by ``total / sum(counts)`` to an integer by
    largest remainders (ties by value): all of them add up to ``total`` exactly."""
    size = sum(counts.values())
    shares = {v: divmod(n * total, size) for v, n in counts.items()}
    left = total - sum(whole for whole, _ in shares.values())
    bumped = {v for v, _ in sorted(shares.items(), key=lambda kv: (-kv[1][1], kv[0]))[:left]}
    return {v: shares[v][0] + (v in bumped) for v, _ in top(counts, keep)}


def boolean_features(profile: Profile) -> list[str]:
    """Features whose every training value is a boolean spelling (categorical, ``True``/``False``)."""
    return [name for name, f in profile.features.items() if f.boolean and not f.numeric and f.present]


def _exact(feature: FeatureProfile) -> dict[str, float]:
    total, mean, std = mean_std(feature.present, feature.total, feature.squares)
    assert feature.minimum is not None
    assert feature.maximum is not None
    return {"mean": mean, "sum": total, "std_dev": std, "min": feature.minimum, "max": feature.maximum}


def sample_days(profile: Profile, name: str, reference: str) -> npt.NDArray[np.float64]:
    """Days since ``reference`` of the dates among feature ``name``'s training sample values."""
    start = parse_date(reference)
    assert start is not None
    return np.array([(d - start).days for d in map(parse_date, sample_texts(profile, name)) if d is not None],
                    dtype=np.float64)  # fmt: skip


def feature_spec(
    name: str, feature: FeatureProfile, profile: Profile, max_categories: int, role: str = ""
) -> dict[str, Any]:
    """The transformer.json spec of one raw feature, from its profile and its role (numeric or categorical
    by the profile when not given); raises DataValidationError for a numeric role on non-numbers."""
    if role == "date":
        return date_spec(name, [d for d in map(parse_date, sample_texts(profile, name)) if d is not None])
    if role == "numeric" and not feature.numeric:
        raise DataValidationError(
            f"pipeline.columns makes {name!r} numeric, but not all its values are numbers"
        )
    if feature.numeric and role != "categorical":
        values = sample_numbers(profile, name)
        median = float(np.median(values)) if len(values) else _exact(feature)["mean"]
        dtype = "int64" if feature.integer_text and not feature.missing else "float64"
        return {
            "name": name, "kind": "numeric", "dtype": dtype, "median": median,
            "missing_indicator": feature.missing > 0,
        }  # fmt: skip
    past_cap = feature.categories.approximate  # then the summary's counts depend on the hosts
    ranked = top(sample_categories(profile, name) if past_cap else category_counts(feature), max_categories)
    dtype = "bool" if feature.boolean and not feature.missing else "object"
    return {"name": name, "kind": "categorical", "dtype": dtype, "categories": sorted(c for c, _ in ranked)}


def fit_transformer(
    profile: Profile, max_categories: int = MAX_CATEGORIES, roles: list[ColumnRole] | None = None
) -> FeatureTransformer:
    """The transformer of the profile's training rows, over the model inputs of ``roles`` (default: as
    :func:`feature_report.column_roles` decides); check the profile first (raw_data.check_profile)."""
    settings, features = profile.settings, profile.features
    roles = column_roles(profile) if roles is None else roles
    specs = [
        feature_spec(r.name, features[r.name], profile, max_categories, r.role)
        for r in roles
        if r.model_input
    ]
    excluded = {r.name: r.role for r in roles if not r.model_input}
    return FeatureTransformer(settings.target, settings.problem_type, specs, labels_of(profile), excluded)


def _date_statistics(feature: FeatureProfile, spec: dict[str, Any], profile: Profile) -> dict[str, Any]:
    days = sample_days(profile, spec["name"], spec["reference"])
    common = {"num_present": feature.present - feature.blank, "num_missing": feature.missing + feature.blank}
    exact = {"mean": float(days.mean()), "sum": float(days.sum()), "std_dev": float(days.std()),
             "min": float(days.min()), "max": float(days.max())}  # fmt: skip
    stats = {**numeric_statistics(common, exact, days), "missing_rate": common["num_missing"] / feature.count}
    return {"name": spec["name"], "inferred_type": "Fractional", "numerical_statistics": stats,
            "date_reference": spec["reference"]}  # fmt: skip


def profile_statistics(profile: Profile, transformer: FeatureTransformer | None = None) -> dict[str, Any]:
    """Model-Monitor-style statistics of the training features (the shape of baseline.compute_statistics),
    of ``transformer``'s model inputs (default: every feature, each numeric or categorical)."""
    features = []
    rows = profile.rows["train"]
    specs = transformer.features if transformer else [{"name": n, "kind": ""} for n in profile.features]
    for spec in specs:
        name, feature = spec["name"], profile.features[spec["name"]]
        if spec["kind"] == "date":
            features.append(_date_statistics(feature, spec, profile))
        elif feature.numeric and spec["kind"] != "categorical":
            common = {"num_present": feature.present, "num_missing": feature.missing}
            stats = {**numeric_statistics(common, _exact(feature), sample_numbers(profile, name)),
                     "missing_rate": feature.missing / rows}  # fmt: skip
            kind = "Integral" if feature.integral else "Fractional"
            features.append({"name": name, "inferred_type": kind, "numerical_statistics": stats})
        else:
            string = _string(feature, profile, name, rows)
            string["missing_rate"] = string["common"]["num_missing"] / rows
            features.append({"name": name, "inferred_type": "String", "string_statistics": string})
    return {"version": VERSION, "dataset": {"item_count": rows}, "features": features}


def _string(feature: FeatureProfile, profile: Profile, name: str, rows: int) -> dict[str, Any]:
    present, cap = feature.present - feature.blank, feature.categories.cap
    if not feature.categories.approximate:
        return string_statistics(rows, category_counts(feature), present)
    sample = sample_categories(profile, name)  # the summary's counts would depend on the hosts
    string = string_statistics(rows, scaled(sample, present, cap) if sample else {}, present)
    string["distinct_count"] = cap + 1  # more than the cap: never a domain constraint
    return string
