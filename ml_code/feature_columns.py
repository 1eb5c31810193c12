"""What the feature transformer does to each raw column: the spec a training column is fitted into,
the output columns and transform step a spec makes, and how one raw value is read. ``features.py``
re-exports the public names; the spec and output-name formats are transformer.json's (see there).

Per raw feature:
- numeric: median imputation, plus a ``<name>__missing`` indicator column when the
  training data had missing values in it;
- categorical: one-hot over the (up to ``max_categories`` most frequent) categories seen
  in training, plus ``<name>=__other__`` (unseen) and ``<name>=__missing__`` buckets.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from ml_code.errors import DataValidationError, PayloadError

MAX_CATEGORIES: Final = 50
OTHER: Final = "__other__"
MISSING: Final = "__missing__"

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


def fit_spec(name: Hashable, column: pd.Series[Any], max_categories: int) -> dict[str, Any]:
    """The transformer.json spec of one raw training column (numeric unless bool or non-numeric).

    Raises DataValidationError when the column has no values at all.
    """
    if column.isna().all():
        raise DataValidationError(f"feature column {name!r} has no values (all missing)")
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
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


ColumnStep = NumericStep | CategoricalStep


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
    return number
