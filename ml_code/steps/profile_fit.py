"""What preprocess fits from the merged profile: the feature transformer (transformer.json format
version 1, as :meth:`FeatureTransformer.fit` writes it) and the drift baseline (statistics.json).

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

from ml_code.features import MAX_CATEGORIES, FeatureTransformer
from ml_code.steps.baseline import VERSION, numeric_statistics, string_statistics
from ml_code.steps.chunks import BOOLEANS
from ml_code.steps.feature_profile import FeatureProfile
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


def feature_spec(name: str, feature: FeatureProfile, profile: Profile, max_categories: int) -> dict[str, Any]:
    """The transformer.json spec of one raw feature, from its profile."""
    if feature.numeric:
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


def fit_transformer(profile: Profile, max_categories: int = MAX_CATEGORIES) -> FeatureTransformer:
    """The transformer of the profile's training rows (check the profile first: raw_data.check_profile)."""
    settings = profile.settings
    specs = [feature_spec(name, f, profile, max_categories) for name, f in profile.features.items()]
    return FeatureTransformer(settings.target, settings.problem_type, specs, labels_of(profile))


def profile_statistics(profile: Profile) -> dict[str, Any]:
    """Model-Monitor-style statistics of the training features (the shape of baseline.compute_statistics)."""
    features = []
    rows = profile.rows["train"]
    for name, feature in profile.features.items():
        if feature.numeric:
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
