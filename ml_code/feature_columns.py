"""What the feature transformer does to each raw column: the spec a training column is fitted into,
the output columns and transform step a spec makes, and how one raw value is read. ``features.py``
re-exports the public names; the spec and output-name formats are transformer.json's (see there).

Per raw feature:
- numeric: median imputation, plus a ``<name>__missing`` indicator column when the
  training data had missing values in it;
- categorical: one-hot over the (up to ``max_categories`` most frequent) categories seen
  in training, plus ``<name>=__other__`` (unseen) and ``<name>=__missing__`` buckets;
- date (transformer.json version 2): ``<name>__year``, ``__month``, ``__dayofweek``, ``__days`` (days
  since the spec's ``reference`` day, the earliest training date) and ``<name>__missing``; a missing
  value, or one that is not a date (:mod:`ml_code.feature_dates`), gets the median training day's
  numbers and the indicator.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from ml_code.errors import DataValidationError, PayloadError
from ml_code.feature_dates import DATE_PARTS, date_parts, parse_date

MAX_CATEGORIES: Final = 50
OTHER: Final = "__other__"
MISSING: Final = "__missing__"
#: The largest magnitude a feature may have: the model reads 32-bit floats, and a larger number
#: would reach it as infinity, which is refused when written as such.
FLOAT32_MAX: Final = float(np.finfo(np.float32).max)

RawValue = str | float | int | bool | None


def normalize_category(value: object) -> str | None:
    """Return the canonical string of a categorical value, or None when it is missing."""
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        # JSON clients send 1.0 for the category "1"
        return str(int(value)) if float(value).is_integer() else str(float(value))
    return str(value)


def date_spec(name: str, days: Sequence[dt.date]) -> dict[str, Any]:
    """The spec of a date feature whose training values (the dates among them) are ``days``."""
    if not days:
        raise DataValidationError(f"date column {name!r} has no dates")
    reference = min(days)
    median = float(np.median([(d - reference).days for d in days]))
    return {
        "name": name,
        "kind": "date",
        "dtype": "object",
        "reference": reference.isoformat(),
        "median": median,
    }


def fit_spec(name: Hashable, column: pd.Series[Any], max_categories: int, role: str = "") -> dict[str, Any]:
    """The transformer.json spec of one raw training column: a date for ``role`` "date", else numeric
    unless bool or non-numeric.

    Raises DataValidationError when the column has no values at all.
    """
    if column.isna().all():
        raise DataValidationError(f"feature column {name!r} has no values (all missing)")
    if role == "date":
        return date_spec(str(name), [d for d in map(parse_date, column) if d is not None])
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    if numeric and role != "categorical":
        return {
            "name": str(name), "kind": "numeric", "dtype": str(column.dtype),
            "median": float(column.median()), "missing_indicator": bool(column.isna().any()),
        }  # fmt: skip
    counts = Counter(c for c in map(normalize_category, column) if c is not None)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:max_categories]
    return {
        "name": str(name), "kind": "categorical", "dtype": str(column.dtype),
        "categories": sorted(str(c) for c, _ in ranked),
    }  # fmt: skip


class NumericStep(NamedTuple):
    """A numeric feature's step: its value (the median when missing) into output column ``start``,
    1.0 into ``indicator`` when missing (-1: no indicator). A tuple, so the row loop can unpack it."""

    raw_index: int
    name: str
    numeric: bool  # True: what the row loop dispatches on
    start: int
    median: float
    indicator: int

    def fill(self, out: npt.NDArray[np.float32], column: pd.Series[Any]) -> None:
        """Write this feature's output columns of ``out`` from a raw frame column.

        Raises DataValidationError for a non-numeric value.
        """
        try:
            values = pd.to_numeric(column.replace("", np.nan)).to_numpy(dtype=np.float64)
        except (ValueError, TypeError) as exc:
            raise DataValidationError(f"numeric column {self.name!r} has a non-numeric value: {exc}") from exc
        missing = np.isnan(values)
        out[:, self.start] = np.where(missing, self.median, values)
        if self.indicator >= 0:
            out[:, self.indicator] = missing


class CategoricalStep(NamedTuple):
    """A categorical feature's step: 1.0 into the output column ``lookup`` gives for the category,
    else into ``other`` (unseen) or ``missing``. A tuple, so the row loop can unpack it."""

    raw_index: int
    name: str
    numeric: bool  # False: what the row loop dispatches on
    lookup: dict[str, int]
    other: int
    missing: int

    def fill(self, out: npt.NDArray[np.float32], column: pd.Series[Any]) -> None:
        """Write this feature's one-hot output columns of ``out`` from a raw frame column."""
        lookup, other, missing_col = self.lookup, self.other, self.missing
        for row, value in enumerate(normalize_category(v) for v in column):
            out[row, missing_col if value is None else lookup.get(value, other)] = 1.0


class DateStep(NamedTuple):
    """A date feature's step: its :data:`DATE_PARTS` into output columns ``start``.., 1.0 into ``start + 4``
    when missing or not a date (then the median day's parts). ``numeric`` None is what the row loop
    dispatches on."""

    raw_index: int
    name: str
    numeric: None
    start: int
    reference: dt.date
    imputed: tuple[float, float, float, float]

    def parts(self, value: object) -> tuple[float, float, float, float] | None:
        """The value's outputs, or None when it is missing or not a date."""
        day = parse_date(value)
        return None if day is None else date_parts(day, self.reference)

    def fill(self, out: npt.NDArray[np.float32], column: pd.Series[Any]) -> None:
        """Write this feature's output columns of ``out`` from a raw frame column."""
        memo: dict[object, tuple[float, float, float, float] | None] = {}
        for row, value in enumerate(column):
            key = value if isinstance(value, str) else None
            parts = memo[key] if key in memo else memo.setdefault(key, self.parts(key))
            out[row, self.start : self.start + 4] = self.imputed if parts is None else parts
            out[row, self.start + 4] = parts is None


def date_step(raw_index: int, spec: Mapping[str, Any], start: int) -> DateStep:
    """The step of a date spec (``reference`` ISO day, ``median`` days since it)."""
    reference = dt.date.fromisoformat(str(spec["reference"]))
    median_day = reference + dt.timedelta(days=round(float(spec["median"])))
    return DateStep(raw_index, str(spec["name"]), None, start, reference, date_parts(median_day, reference))


ColumnStep = NumericStep | CategoricalStep | DateStep


def column_steps(features: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[ColumnStep]]:
    """The output column names and one step per raw feature, in the specs' order."""
    output_names: list[str] = []
    steps: list[ColumnStep] = []
    for raw_index, spec in enumerate(features):
        name, start = spec["name"], len(output_names)
        if spec["kind"] == "numeric":
            output_names.append(name)
            indicator = start + 1 if spec["missing_indicator"] else -1
            if spec["missing_indicator"]:
                output_names.append(f"{name}__missing")
            steps.append(NumericStep(raw_index, name, True, start, float(spec["median"]), indicator))
        elif spec["kind"] == "date":
            output_names += [f"{name}__{part}" for part in DATE_PARTS] + [f"{name}__missing"]
            steps.append(date_step(raw_index, spec, start))
        else:
            cats = list(spec["categories"])
            output_names += [f"{name}={c}" for c in [*cats, OTHER, MISSING]]
            lookup = {c: start + i for i, c in enumerate(cats)}
            other, missing = start + len(cats), start + len(cats) + 1
            steps.append(CategoricalStep(raw_index, name, False, lookup, other, missing))
    return output_names, steps


def to_number(value: RawValue, row: int, column: str) -> float | None:
    """A numeric cell as float (None when missing); raises PayloadError for anything else."""
    if value is None:
        return None
    if isinstance(value, float | int):
        number = float(value)
    else:
        text = str(value).strip()
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            raise PayloadError(f"row {row}, column {column!r}: expected a number, got {value!r}") from None
    if math.isnan(number):
        return None
    if math.isinf(number):
        raise PayloadError(f"row {row}, column {column!r}: {value!r} is not a finite number")
    if abs(number) > FLOAT32_MAX:
        raise PayloadError(
            f"row {row}, column {column!r}: {value!r} is beyond ±3.4e38, the largest number the model "
            "reads (32-bit floats)"
        )
    return number
