"""Preprocess step: validate the raw CSVs, split, fit the transformer, write splits + baseline.

Pure functions (:func:`split`, :func:`preprocess`; reading and checking the raw CSVs in
:mod:`ml_code.steps.raw_data`, writing the outputs in :mod:`ml_code.steps.preprocess_outputs`)
behind a thin :func:`main` that maps the processing container:
``python3 preprocess.py --target-column COL --problem-type {binary,multiclass,regression}
[--validation-fraction 0.15] [--test-fraction 0.15] [--seed 42]
[--input-dir DIR] [--output-root DIR]``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from ml_code import contract
from ml_code.container import container_path, run_step
from ml_code.errors import DataValidationError
from ml_code.features import FeatureTransformer
from ml_code.steps.baseline import compute_statistics, suggest_constraints
from ml_code.steps.preprocess_outputs import (
    SMOKE_SAMPLES,
    TEST_RAW_FILE,
    PreprocessResult,
    smoke_samples,
    write_outputs,
)
from ml_code.steps.raw_data import MAX_CLASSES, read_raw, validate

#: Names other code imports from here; reading and checking the raw data, and writing the outputs,
#: live in their own modules beside this one.
__all__ = [
    "MAX_CLASSES",
    "SMOKE_SAMPLES",
    "TEST_RAW_FILE",
    "PreprocessResult",
    "main",
    "parse_args",
    "preprocess",
    "read_raw",
    "smoke_samples",
    "split",
    "transformed",
    "validate",
    "write_outputs",
]

LOG = logging.getLogger(__name__)


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
