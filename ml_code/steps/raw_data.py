"""The checks the raw data must pass before anything is fitted, on its merged profile (every host's
rows): a target, features, values in every column, labels a model can learn from, and rows in every
split. ``preprocess.py`` re-exports :func:`check_profile` and :data:`MAX_CLASSES`."""

from __future__ import annotations

import logging
from typing import Final

from ml_code.errors import DataValidationError
from ml_code.features import Label
from ml_code.steps.profile import Profile
from ml_code.steps.strata import label_number

LOG = logging.getLogger(__name__)
#: More distinct labels than this almost always means a continuous target.
MAX_CLASSES: Final = 100
#: Rows a label needs in all.
MIN_LABEL_ROWS: Final = 3


def canonical_labels(counts: dict[str, int], target: str) -> dict[Label, int]:
    """Counts per label: ints when every label is a whole number (``1`` and ``1.0`` are one label),
    else the (stripped) texts. Raises DataValidationError for numbers that are not whole."""
    numbers = {text: label_number(text) for text in counts}
    if not counts or any(n is None for n in numbers.values()):
        return {str(text): n for text, n in counts.items()}
    if not all(float(n).is_integer() for n in numbers.values() if n is not None):
        shown = sorted(numbers, key=lambda t: numbers[t] or 0.0)[:3]
        raise DataValidationError(
            f"target {target!r} has non-integer numeric labels (e.g. {shown}); "
            "use --problem-type regression for a continuous target"
        )
    merged: dict[Label, int] = {}
    for text, n in counts.items():
        label = int(float(text))
        merged[label] = merged.get(label, 0) + n
    return merged


def _check_columns(profile: Profile) -> None:
    settings = profile.settings
    if profile.read == 0:
        raise DataValidationError(f"the input has a header ({list(settings.columns)}) but no rows")
    # an empty feature is left out (column_roles: "empty"); an empty target leaves nothing to learn
    empty = [c for c in settings.columns if profile.present[c] == 0 and c == settings.target]
    if empty:
        raise DataValidationError(f"columns with no values at all (every row missing): {empty}")
    if profile.unlabelled:
        LOG.warning("dropping %d rows without a %r value", profile.unlabelled, settings.target)


def _check_labels(profile: Profile) -> None:
    target, problem_type = profile.settings.target, profile.settings.problem_type
    if problem_type == "regression":
        if profile.bad_targets:
            raise DataValidationError(
                f"regression target {target!r} has non-numeric values, e.g. {profile.bad_targets}"
            )
        return
    labels = canonical_labels(profile.labels.counts, target)
    distinct = f"more than {profile.labels.cap}" if profile.labels.approximate else str(len(labels))
    if len(labels) < 2:
        raise DataValidationError(
            f"{problem_type} target {target!r} needs 2+ distinct labels, found {distinct}"
        )
    if problem_type == "binary" and len(labels) > 2:
        shown = sorted(map(str, labels))[:10]
        raise DataValidationError(
            f"binary target {target!r} has {distinct} labels {shown}; use --problem-type multiclass"
        )
    if len(labels) > MAX_CLASSES:
        raise DataValidationError(
            f"target {target!r} has {distinct} distinct labels; use --problem-type regression for a "
            "continuous target"
        )
    rare = sorted(str(label) for label, n in labels.items() if n < MIN_LABEL_ROWS)
    if rare:
        raise DataValidationError(
            f"labels {rare} of {target!r} have fewer than {MIN_LABEL_ROWS} rows; a model cannot learn a "
            "label from so few, nor be validated and tested on it"
        )


def _check_split(profile: Profile) -> None:
    settings, rows = profile.settings, profile.rows
    empty = [name for name in ("train", "validation", "test") if rows[name] == 0]
    if empty:
        raise DataValidationError(
            f"cannot split {sum(rows.values())} rows: the {' and '.join(empty)} split got none "
            f"(validation fraction {settings.validation_fraction}, test fraction {settings.test_fraction}, "
            f"seed {settings.seed}); add rows or change the fractions"
        )
    if settings.problem_type != "regression":
        trained = canonical_labels(profile.train_labels.counts, settings.target)
        absent = sorted(str(label) for label in canonical_labels(profile.labels.counts, settings.target)
                        if label not in trained)  # fmt: skip
        if absent:
            raise DataValidationError(
                f"labels {absent} of {settings.target!r} have no rows in the training split (rows are split "
                "by a hash of their values); add rows of those labels or change --seed"
            )
    unfit = [name for name, feature in profile.features.items() if feature.present == 0]
    if unfit:
        raise DataValidationError(
            f"feature columns {unfit} have no values in the training split (all missing)"
        )


def check_profile(profile: Profile) -> None:
    """Raise DataValidationError naming the first problem of the merged ``profile``, if any."""
    _check_columns(profile)
    _check_labels(profile)
    _check_split(profile)


def labels_of(profile: Profile) -> list[Label] | None:
    """The transformer's class labels, sorted (None for regression)."""
    if profile.settings.problem_type == "regression":
        return None
    labels = canonical_labels(profile.labels.counts, profile.settings.target)
    numbers = [label for label in labels if isinstance(label, int)]
    if len(numbers) == len(labels):
        return list(sorted(numbers))
    return list(sorted(str(label) for label in labels))
