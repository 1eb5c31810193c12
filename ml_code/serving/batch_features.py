"""Column-wise fast paths for FeatureTransformer.transform_rows on large, clean batches.

transform_rows walks every cell in Python (about 9 ms for 1,000 rows of 10 features);
serving a 1,000-row request spent most of its time there. This module produces the same
matrix column by column (C-level ``map``/``zip``, numpy assignment, one normalisation per
distinct category) in about a tenth of the time. It owns no semantics: anything it does
not recognise as clean (ragged rows, unknown keys, a value that is not a number where a
number belongs, infinities, out-of-range ints) is handed to ``transform_rows``, which
returns its own result or raises its own PayloadError. tests/unit/test_payload_fuzz.py
checks both paths agree on generated batches. ``transform_csv`` goes one step further for CSV
bodies: ml_code/serving/csv_columns.py reads the matrix straight from the text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from ml_code.feature_columns import DateStep, date_step
from ml_code.features import MISSING, OTHER, FeatureTransformer, normalize_category
from ml_code.serving.csv_columns import CsvColumns

#: Below this many rows the per-cell path is as fast and the setup is not worth it.
MIN_ROWS = 32
#: CSV bodies shorter than this go through csv.reader and transform_rows: the column-wise
#: reader's fixed cost (~0.14 ms on the benchmark machine, what csv.reader and transform_rows
#: take for ~10 rows of 10 features) pays off from about that size; 1,024 characters is ~16 such rows.
MIN_CSV_CHARS = 1024


class _NotCleanError(Exception):
    """The batch needs the reference path (transform_rows)."""


@dataclass(frozen=True)
class _Numeric:
    column: int
    median: float
    indicator: int  # -1 without a missing-value indicator


@dataclass(frozen=True)
class _Categorical:
    lookup: dict[str, int]
    other: int
    missing: int


class BatchTransformer:
    """Wraps a FeatureTransformer; ``transform_rows`` has its contract, only faster."""

    def __init__(self, transformer: FeatureTransformer) -> None:
        self.transformer = transformer
        self.names = transformer.feature_names
        self._name_set = frozenset(self.names)
        self._getter = itemgetter(*self.names)
        self._csv = CsvColumns(transformer)
        index = {name: i for i, name in enumerate(transformer.output_names)}
        self._plan: list[_Numeric | _Categorical | DateStep] = []
        for raw_index, spec in enumerate(transformer.features):
            name = spec["name"]
            if spec["kind"] == "date":  # its step fills its columns from one parse per distinct value
                self._plan.append(date_step(raw_index, spec, index[f"{name}__year"]))
            elif spec["kind"] == "numeric":
                indicator = index[f"{name}__missing"] if spec["missing_indicator"] else -1
                self._plan.append(_Numeric(index[name], float(spec["median"]), indicator))
            else:
                lookup = {str(c): index[f"{name}={c}"] for c in spec["categories"]}
                self._plan.append(_Categorical(lookup, index[f"{name}={OTHER}"], index[f"{name}={MISSING}"]))

    def transform_csv(self, text: str) -> npt.NDArray[np.float32] | None:
        """The matrix of a large, clean CSV body read column-wise from its bytes, else None.

        None means: parse the rows and call transform_rows (ml_code/serving/csv_columns.py says which
        bodies it takes; for those the result is transform_rows' own).
        """
        if len(text) < MIN_CSV_CHARS:
            return None
        return self._csv.parse(text)

    def transform_rows(self, rows: Sequence[Any]) -> npt.NDArray[np.float32]:
        if len(rows) >= MIN_ROWS:
            try:
                return self._columnwise(rows)
            except _NotCleanError:
                pass
        return self.transformer.transform_rows(rows)

    def _columns(self, rows: Sequence[Any]) -> list[tuple[Any, ...]]:
        width = len(self.names)
        kinds = set(map(type, rows))
        if kinds == {list}:
            if set(map(len, rows)) != {width}:
                raise _NotCleanError
            return list(zip(*rows, strict=True))
        if kinds == {dict}:
            if any(row.keys() != self._name_set for row in rows):
                raise _NotCleanError
            values = list(map(self._getter, rows))
            return list(zip(*values, strict=True)) if width > 1 else [tuple(values)]
        raise _NotCleanError

    def _columnwise(self, rows: Sequence[Any]) -> npt.NDArray[np.float32]:
        columns = self._columns(rows)
        out = np.zeros((len(rows), len(self.transformer.output_names)), dtype=np.float32)
        positions = np.arange(len(rows))
        for step, column in zip(self._plan, columns, strict=True):
            if isinstance(step, _Numeric):
                values = _floats(column)
                missing = np.isnan(values)
                out[:, step.column] = np.where(missing, step.median, values)
                if step.indicator >= 0:
                    out[:, step.indicator] = missing
            elif isinstance(step, DateStep):
                step.fill(out, column)  # type: ignore[arg-type]  # it only iterates the column
            else:
                out[positions, _category_columns(step, column)] = 1.0
        return out


def _floats(column: tuple[Any, ...]) -> npt.NDArray[np.float64]:
    """Floats with NaN for missing (None, blank text); raises _NotCleanError for anything else."""
    # the usual missing cells (empty CSV field, JSON null) become NaN without a Python call each
    cleaned = [math.nan if v is None or v == "" else v for v in column]
    try:
        values = np.array(list(map(float, cleaned)), dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        values = np.array([_one_float(v) for v in column], dtype=np.float64)
    if np.isinf(values).any():
        raise _NotCleanError  # transform_rows names the cell
    return values


def _one_float(value: Any) -> float:
    if value is None or (type(value) is str and not value.strip()):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise _NotCleanError from None


def _category_columns(step: _Categorical, column: tuple[Any, ...]) -> list[int]:
    def target(value: Any) -> int:
        category = normalize_category(value)
        return step.missing if category is None else step.lookup.get(category, step.other)

    if set(map(type, column)) == {str}:
        # CSV cells: normalise each distinct string once
        memo = {v: target(v) for v in set(column)}
        return list(map(memo.__getitem__, column))
    return list(map(target, column))
