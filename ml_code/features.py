"""The fitted feature transformer: raw tabular rows in, a float32 matrix out.

Fitted once by preprocess on the training split, saved as JSON (never pickle, so the
model loads in the SageMaker XGBoost container whatever its scikit-learn version) and
applied by serving to raw request rows. It also owns the label <-> class-index mapping.

What each raw feature becomes (numeric: median imputation and a missing indicator; categorical:
one-hot with ``__other__`` and ``__missing__`` buckets) is :mod:`ml_code.feature_columns`'s; this
module re-exports its public names.

Serving API (stable; ml_code/serving/inference.py builds on it):
- ``FeatureTransformer.from_json(text)`` / ``.to_json()``
- ``.feature_names``: raw feature order a CSV row must follow
- ``.transform_rows(rows)``: rows are sequences of raw values (str | float | int | bool |
  None; ``None``/``""``/NaN mean missing) in ``feature_names`` order, or mappings by
  feature name; returns ``np.ndarray[float32]`` of shape (len(rows), len(output_names));
  raises :class:`~ml_code.errors.PayloadError` naming the row and column
- ``.labels``: class labels by class index (None for regression); ``.decode(indices)``

``.features`` (one dict per model input: ``name``, ``kind`` numeric|categorical|date, ``dtype``,
``median`` + ``missing_indicator``, ``categories``, or ``reference`` + ``median``) and the output-name
formats above are transformer.json's format: ml_code/serving/batch_features.py builds its column-wise
serving path on them, so changing either means a new format version. Version 2 adds the ``date`` kind
and ``excluded`` (the raw columns that are not model inputs, by role: identifiers, text, constant,
empty, dropped; see :mod:`ml_code.column_roles`); version 1 (numeric and categorical only) still
loads and transforms exactly as before. A request carries the model inputs only: a row that still
sends an excluded column is rejected by its count (CSV) or as an unknown feature (JSON), and the
message names the column's role.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from ml_code.contract import PROBLEM_TYPES
from ml_code.errors import DataValidationError, PayloadError
from ml_code.feature_columns import (
    MAX_CATEGORIES,
    MISSING,
    OTHER,
    ColumnStep,
    RawValue,
    column_steps,
    fit_spec,
    normalize_category,
    to_number,
)
from ml_code.feature_dates import date_parts, parse_date
from ml_code.feature_labels import Label, as_int_label, as_str_label, labels_of

#: Names other code imports from here (serving, drift, steps, tests).
__all__ = [
    "FORMAT_VERSION",
    "MAX_CATEGORIES",
    "MISSING",
    "OTHER",
    "FeatureTransformer",
    "Label",
    "RawValue",
    "normalize_category",
]

FORMAT_VERSION: Final = 2
#: The versions from_dict reads (version 1: models registered before date features).
READABLE_VERSIONS: Final = (1, 2)

_INPUT_ROLES: Final = frozenset({"numeric", "categorical", "date"})
_ROLE_TEXT: Final = {"identifier": "an identifier", "dropped": "dropped in pipeline.columns"}


@dataclass
class FeatureTransformer:
    """Fitted transform from raw features to the model's float32 matrix (see module doc)."""

    target: str
    problem_type: str
    features: list[dict[str, Any]]
    labels: list[Label] | None = None
    #: raw columns that are not model inputs, by name: their role (format version 2)
    excluded: dict[str, str] = field(default_factory=dict)
    _plan: list[ColumnStep] = field(init=False, repr=False, compare=False)
    _names: list[str] = field(init=False, repr=False, compare=False)
    output_names: list[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if self.problem_type not in PROBLEM_TYPES:
            raise ValueError(f"problem_type must be one of {PROBLEM_TYPES}, got {self.problem_type!r}")
        self.output_names, self._plan = column_steps(self.features)
        self._names = [str(spec["name"]) for spec in self.features]  # per request, without a new list

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        target: str,
        problem_type: str,
        max_categories: int = MAX_CATEGORIES,
        roles: Mapping[str, str] | None = None,
    ) -> FeatureTransformer:
        """Fit on a raw frame that includes ``target``; ``roles`` (by column, as column_roles names them)
        makes dates and leaves out the columns that are not model inputs (default: every column numeric
        or categorical). Raises DataValidationError on unusable columns."""
        if target not in frame.columns:
            raise DataValidationError(f"target column {target!r} not found; columns: {list(frame.columns)}")
        roles = roles or {}
        inputs = [n for n in frame.columns if n != target and roles.get(str(n), "numeric") in _INPUT_ROLES]
        specs = [fit_spec(n, frame[n], max_categories, roles.get(str(n), "")) for n in inputs]
        excluded = {str(n): r for n, r in roles.items() if r not in _INPUT_ROLES and n != target}
        labels = None if problem_type == "regression" else labels_of(frame[target])
        return cls(target=target, problem_type=problem_type, features=specs, labels=labels, excluded=excluded)

    @property
    def feature_names(self) -> list[str]:
        """Raw feature names in the order rows must follow."""
        return [str(spec["name"]) for spec in self.features]

    # ------------------------------------------------------------------ transforming
    def transform_frame(self, frame: pd.DataFrame) -> npt.NDArray[np.float32]:
        """Transform a raw frame (extra columns such as the target are ignored).

        Raises DataValidationError naming a missing feature or a non-numeric numeric column.
        """
        absent = [n for n in self.feature_names if n not in frame.columns]
        if absent:
            raise DataValidationError(f"feature columns {absent} not found; columns: {list(frame.columns)}")
        out = np.zeros((len(frame), len(self.output_names)), dtype=np.float32)
        for step in self._plan:
            step.fill(out, frame[step.name])
        return out

    def transform_rows(
        self, rows: Sequence[Sequence[RawValue] | Mapping[str, RawValue]]
    ) -> npt.NDArray[np.float32]:
        """Transform raw request rows (see module doc); raises PayloadError naming row and column."""
        width, names = len(self.output_names), self._names
        # The steps unpacked as plain tuples, per row and column: attribute reads cost more here
        plan: Sequence[tuple[Any, ...]] = self._plan
        flat = [0.0] * (width * len(rows))
        for r, raw_row in enumerate(rows):
            row = self._as_sequence(r, raw_row, names)
            base = r * width
            for raw_index, name, numeric, *rest in plan:
                value = row[raw_index]
                if numeric is None:  # a date
                    start, reference, imputed = rest
                    day = parse_date(value)
                    flat[base + start : base + start + 4] = (
                        imputed if day is None else date_parts(day, reference)
                    )
                    flat[base + start + 4] = float(day is None)
                elif numeric:
                    start, median, indicator = rest
                    number = to_number(value, r, name)
                    if number is None:
                        flat[base + start] = median
                        if indicator >= 0:
                            flat[base + indicator] = 1.0
                    else:
                        flat[base + start] = number
                else:
                    lookup, other, missing_col = rest
                    category = normalize_category(value)
                    flat[base + (missing_col if category is None else lookup.get(category, other))] = 1.0
        return np.array(flat, dtype=np.float32).reshape(len(rows), width)

    def _as_sequence(self, r: int, row: object, names: list[str]) -> Sequence[RawValue]:
        if isinstance(row, Mapping):
            if len(row) == len(names):
                try:  # the common case, without building sets per row
                    return [row[n] for n in names]
                except KeyError:
                    pass
            unknown = sorted(set(row) - set(names))
            absent = [n for n in names if n not in row]
            if unknown or absent:
                raise PayloadError(f"row {r}: unknown features {unknown}, missing features {absent}"
                                   f"{self._excluded_note(unknown)}")  # fmt: skip
            return [row[n] for n in names]
        if isinstance(row, str | bytes) or not isinstance(row, Sequence):
            raise PayloadError(f"row {r}: expected a list of {len(names)} values, got {type(row).__name__}")
        if len(row) != len(names):
            raise PayloadError(
                f"row {r} has {len(row)} values; expected {len(names)} in this order: {', '.join(names)}"
            )
        return cast(Sequence[RawValue], row)

    def _excluded_note(self, unknown: list[str]) -> str:
        """Why the unknown features that are excluded columns are not inputs ("" for none)."""
        known = [f"{n!r} is {_ROLE_TEXT.get(self.excluded[n], self.excluded[n])}" for n in unknown
                 if n in self.excluded]  # fmt: skip
        return f" ({'; '.join(known)}: not a model input, leave it out)" if known else ""

    # ------------------------------------------------------------------ labels
    def encode_target(self, target: pd.Series[Any]) -> npt.NDArray[np.float64]:
        """Class index per label (classification) or the float target (regression)."""
        if self.labels is None:
            return target.astype(np.float64).to_numpy()
        index: dict[Label, int] = {label: i for i, label in enumerate(self.labels)}
        convert = as_int_label if isinstance(self.labels[0], int) else as_str_label
        as_label = [convert(v) for v in target]
        unknown = sorted({str(v) for v in as_label if v not in index})
        if unknown:
            raise DataValidationError(f"target {self.target!r} has labels unseen in training: {unknown[:10]}")
        return np.array([index[v] for v in as_label], dtype=np.float64)

    def decode(self, indices: Sequence[int] | npt.NDArray[np.integer[Any]]) -> list[Label]:
        """Labels for class indices; raises ValueError for a regression transformer."""
        if self.labels is None:
            raise ValueError("a regression transformer has no class labels")
        return [self.labels[int(i)] for i in indices]

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION, "target": self.target, "problem_type": self.problem_type,
            "labels": self.labels, "features": self.features, "output_names": self.output_names,
            "excluded": self.excluded,
        }  # fmt: skip

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureTransformer:
        """Rebuild from :meth:`to_dict` (either readable version); raises ValueError for another one."""
        if data.get("format_version") not in READABLE_VERSIONS:
            raise ValueError(
                f"transformer format_version {data.get('format_version')!r} is not 1 or 2 "
                "(this code reads those)"
            )
        return cls(
            target=data["target"], problem_type=data["problem_type"],
            features=list(data["features"]), labels=data["labels"], excluded=dict(data.get("excluded") or {}),
        )  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> FeatureTransformer:
        return cls.from_dict(json.loads(text))
