"""Preprocess step: validate the raw CSVs, split, fit the transformer, write splits + baseline.

Pure functions (:func:`read_raw`, :func:`validate`, :func:`split`, :func:`preprocess`,
:func:`write_outputs`) behind a thin :func:`main` that maps the processing container:
``python3 preprocess.py --target-column COL --problem-type {binary,multiclass,regression}
[--validation-fraction 0.15] [--test-fraction 0.15] [--seed 42]
[--input-dir DIR] [--output-root DIR]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd
from sklearn.model_selection import train_test_split

from ml_code import contract
from ml_code.container import container_path, run_step
from ml_code.errors import DataValidationError
from ml_code.features import FeatureTransformer
from ml_code.steps.baseline import compute_statistics, suggest_constraints

LOG = logging.getLogger(__name__)
TEST_RAW_FILE: Final = "test_raw.csv"
#: More distinct labels than this almost always means a continuous target.
MAX_CLASSES: Final = 100
#: How many raw test records the model version keeps for the post-deploy smoke test.
SMOKE_SAMPLES: Final = 50


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


def split(
    frame: pd.DataFrame,
    target: str,
    problem_type: str,
    *,
    validation_fraction: float,
    test_fraction: float,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Seeded (stratified for classification) train/validation/test split of the raw frame.

    Raises ValueError for fractions outside (0, 1) or summing to 1 or more; DataValidationError
    when the data is too small to split that way.
    """
    if not (
        0 < validation_fraction < 1 and 0 < test_fraction < 1 and validation_fraction + test_fraction < 1
    ):
        raise ValueError(
            f"validation ({validation_fraction}) and test ({test_fraction}) fractions must be in (0, 1) "
            "and sum to less than 1"
        )

    def cut(data: pd.DataFrame, size: float) -> tuple[pd.DataFrame, pd.DataFrame]:
        strata = None if problem_type == "regression" else data[target].astype(str)
        try:
            kept, held = train_test_split(data, test_size=size, random_state=seed, stratify=strata)
        except ValueError as exc:
            raise DataValidationError(f"cannot split {len(data)} rows: {exc}") from exc
        return kept.reset_index(drop=True), held.reset_index(drop=True)

    rest, test = cut(frame, test_fraction)
    train, validation = cut(rest, validation_fraction / (1 - test_fraction))
    return train, validation, test


@dataclass(frozen=True)
class PreprocessResult:
    """Everything the step writes: transformed splits, the raw test rows, transformer, baseline."""

    splits: dict[str, pd.DataFrame]
    test_raw: pd.DataFrame
    transformer: FeatureTransformer
    statistics: dict[str, Any]
    constraints: dict[str, Any]


def transformed(transformer: FeatureTransformer, frame: pd.DataFrame) -> pd.DataFrame:
    """The split file's frame: encoded target first (TARGET_COLUMN_IN_SPLITS), then the features."""
    features = pd.DataFrame(transformer.transform_frame(frame), columns=transformer.output_names)
    features.insert(0, contract.TARGET_COLUMN_IN_SPLITS, transformer.encode_target(frame[transformer.target]))
    return features


def preprocess(
    frame: pd.DataFrame,
    target: str,
    problem_type: str,
    *,
    validation_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 42,
) -> PreprocessResult:
    """Validate, split, fit the transformer on the training split only, baseline its raw features."""
    frame = validate(frame, target, problem_type)
    train, validation, test = split(
        frame,
        target,
        problem_type,
        validation_fraction=validation_fraction,
        test_fraction=test_fraction,
        seed=seed,
    )
    transformer = FeatureTransformer.fit(train, target, problem_type)
    statistics = compute_statistics(train.drop(columns=[target]))
    return PreprocessResult(
        splits={name: transformed(transformer, part) for name, part in
                (("train", train), ("validation", validation), ("test", test))},
        test_raw=test,
        transformer=transformer,
        statistics=statistics,
        constraints=suggest_constraints(statistics),
    )  # fmt: skip


def smoke_samples(test_raw: pd.DataFrame, target: str, limit: int = SMOKE_SAMPLES) -> list[dict[str, Any]]:
    """The first ``limit`` raw test records without ``target``: original column names and values,
    missing values as ``None`` (JSON null) -- what a client would send the endpoint."""
    features = test_raw.drop(columns=[target]).head(limit)
    records: list[dict[str, Any]] = json.loads(features.to_json(orient="records", double_precision=15))
    return records


def write_outputs(result: PreprocessResult, dirs: Mapping[str, Path]) -> None:
    """Write the files of the contract into ``dirs`` (keys as contract.PREPROCESS_OUTPUTS)."""
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    files = {"train": contract.TRAIN_FILE, "validation": contract.VALIDATION_FILE, "test": contract.TEST_FILE}
    for name, frame in result.splits.items():
        frame.to_csv(dirs[name] / files[name], index=False)
    (dirs["train"] / contract.TRANSFORMER_FILE).write_text(result.transformer.to_json(), encoding="utf-8")
    result.test_raw.to_csv(dirs["test"] / TEST_RAW_FILE, index=False)
    samples = smoke_samples(result.test_raw, result.transformer.target)
    (dirs["test"] / contract.SMOKE_SAMPLES_FILE).write_text(json.dumps(samples, indent=1), encoding="utf-8")
    for file, content in (
        (contract.BASELINE_STATISTICS_FILE, result.statistics),
        (contract.BASELINE_CONSTRAINTS_FILE, result.constraints),
    ):
        (dirs["baseline"] / file).write_text(json.dumps(content, indent=2), encoding="utf-8")  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Validate, split and transform the raw data.")
    parser.add_argument("--target-column", required=True)
    parser.add_argument("--problem-type", required=True, choices=contract.PROBLEM_TYPES)
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--input-dir", type=Path, default=None, help="default: the processing input dir")
    parser.add_argument("--output-root", type=Path, default=None,
                        help="write train/ validation/ test/ baseline/ under this dir instead")  # fmt: skip
    return parser.parse_args(argv)


def _run(argv: list[str] | None) -> None:
    args = parse_args(argv)
    input_dir = args.input_dir or container_path(contract.RAW_DATA_DIR)
    dirs = {
        name: (args.output_root / name if args.output_root else container_path(path))
        for name, path in contract.PREPROCESS_OUTPUTS.items()
    }
    frame = read_raw(input_dir)
    LOG.info("read %d rows x %d columns from %s", len(frame), len(frame.columns), input_dir)
    result = preprocess(
        frame,
        args.target_column,
        args.problem_type,
        validation_fraction=args.validation_fraction,
        test_fraction=args.test_fraction,
        seed=args.seed,
    )
    write_outputs(result, dirs)
    sizes = {name: len(part) for name, part in result.splits.items()}
    LOG.info("wrote splits %s with %d features to %s", sizes, len(result.transformer.output_names), dirs)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the processing job; 0 on success, else 1 with the reason in the message file."""
    return run_step(lambda: _run(argv), contract.PROCESSING_MESSAGE_FILE)


if __name__ == "__main__":
    sys.exit(main())
