"""What preprocess fits from the merged profile: the feature transformer (transformer.json format
version 1, as :meth:`FeatureTransformer.fit` writes it) and the drift baseline (statistics.json).

Exact from the profile: row and missing counts, category counts (up to the cap, see
:mod:`feature_profile`), sum, mean, standard deviation, min and max. From the bottom-k sample of the
training rows (every training row when there are at most k): medians, quantiles, histogram counts
and decile bins. Both are the same for any number of hosts and any chunk size, but for a feature
with more distinct values than the cap: its counts are a summary that depends on the order of merging,
so its statistics' buckets may differ between runs with other hosts or chunks (its distinct count then
says "more than the cap", so no domain constraint is drawn from the summary).
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
    ranked = sorted(category_counts(feature).items(), key=lambda kv: (-kv[1], kv[0]))[:max_categories]
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
            string = string_statistics(rows, category_counts(feature), feature.present - feature.blank)
            if feature.categories.approximate:  # the summary lists the frequent values of more than cap
                string["distinct_count"] = max(string["distinct_count"], feature.categories.cap + 1)
            string["missing_rate"] = string["common"]["num_missing"] / rows
            features.append({"name": name, "inferred_type": "String", "string_statistics": string})
    return {"version": VERSION, "dataset": {"item_count": rows}, "features": features}
