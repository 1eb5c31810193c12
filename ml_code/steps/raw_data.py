"""The preprocess step's input: every raw CSV read into one frame, and the checks that frame must pass
(a target, features, labels a stratified split can use) before it is split. ``preprocess.py``
re-exports :func:`read_raw`, :func:`validate` and :data:`MAX_CLASSES`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

import pandas as pd

from ml_code.errors import DataValidationError

LOG = logging.getLogger(__name__)
#: More distinct labels than this almost always means a continuous target.
MAX_CLASSES: Final = 100


def read_raw(input_dir: Path) -> pd.DataFrame:
    """Concatenate every ``*.csv`` under ``input_dir`` (sorted by path).

    Raises DataValidationError: no CSV found, an empty file, files with different columns.
    """
    files = sorted(p for p in input_dir.rglob("*.csv") if p.is_file())
    if not files:
        found = sorted(str(p.relative_to(input_dir)) for p in input_dir.rglob("*") if p.is_file())[:20]
        raise DataValidationError(f"no CSV file under {input_dir}; files found: {found}")
    frames: list[pd.DataFrame] = []
    for path in files:
        try:
            frame = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            raise DataValidationError(f"{path.name} is empty (no header, no rows)") from None
        frame.columns = [str(c).strip() for c in frame.columns]
        if frames and list(frame.columns) != list(frames[0].columns):
            raise DataValidationError(
                f"{path.name} has columns {list(frame.columns)}, "
                f"but {files[0].name} has {list(frames[0].columns)}"
            )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def validate(frame: pd.DataFrame, target: str, problem_type: str) -> pd.DataFrame:
    """Return ``frame`` without rows lacking a target, or raise DataValidationError naming the problem."""
    if target not in frame.columns:
        raise DataValidationError(f"target column {target!r} not found; columns found: {list(frame.columns)}")
    if frame.empty:
        raise DataValidationError(f"the input has a header ({list(frame.columns)}) but no rows")
    if len(frame.columns) < 2:
        raise DataValidationError(f"the input has no feature columns besides the target {target!r}")
    empty = [str(c) for c in frame.columns if frame[c].isna().all()]
    if empty:
        raise DataValidationError(f"columns with no values at all (every row missing): {empty}")
    unlabelled = int(frame[target].isna().sum())
    if unlabelled:
        LOG.warning("dropping %d rows without a %r value", unlabelled, target)
        frame = frame.dropna(subset=[target]).reset_index(drop=True)
    labels = frame[target]
    if problem_type == "regression":
        numbers = pd.to_numeric(labels, errors="coerce")
        if numbers.isna().any():
            bad = labels[numbers.isna()].unique()[:5].tolist()
            raise DataValidationError(f"regression target {target!r} has non-numeric values, e.g. {bad}")
        return frame.assign(**{target: numbers})
    distinct = labels.nunique()
    if distinct < 2:
        raise DataValidationError(
            f"{problem_type} target {target!r} needs 2+ distinct labels, found {distinct}"
        )
    if problem_type == "binary" and distinct > 2:
        shown = sorted(map(str, labels.unique()))[:10]
        raise DataValidationError(
            f"binary target {target!r} has {distinct} labels {shown}; use --problem-type multiclass"
        )
    if distinct > MAX_CLASSES:
        raise DataValidationError(
            f"target {target!r} has {distinct} distinct labels; use --problem-type regression for a "
            "continuous target"
        )
    rare = labels.value_counts()
    rare = rare[rare < 3]
    if not rare.empty:
        raise DataValidationError(
            f"labels {sorted(map(str, rare.index))} of {target!r} have fewer than 3 rows; a stratified "
            "train/validation/test split needs at least 3 per label"
        )
    return frame
