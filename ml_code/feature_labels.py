"""Class labels of a classification target: how they are found in training and read back from JSON."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ml_code.errors import DataValidationError

Label = int | str


def labels_of(target: pd.Series[Any]) -> list[Label]:
    """Sorted distinct labels: ints when every label is integral, else strings."""
    values = target.dropna().unique().tolist()
    if all(isinstance(v, int | float | bool | np.number) for v in values):
        if not all(float(v).is_integer() for v in values):
            raise DataValidationError(
                f"target {target.name!r} has non-integer numeric labels (e.g. {values[:3]}); "
                "use --problem-type regression for a continuous target"
            )
        return sorted({int(v) for v in values})
    return sorted({str(v).strip() for v in values})


def as_int_label(value: Any) -> Label:
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)


def as_str_label(value: Any) -> Label:
    return str(value).strip()
