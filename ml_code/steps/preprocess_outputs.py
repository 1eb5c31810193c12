"""What the preprocess step writes: its result (transformed splits, the raw test rows, the fitted
transformer, the baseline) and the files of the contract it becomes (``contract.PREPROCESS_OUTPUTS``).
``preprocess.py`` re-exports every name here."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd

from ml_code import contract
from ml_code.features import FeatureTransformer

TEST_RAW_FILE: Final = "test_raw.csv"
#: How many raw test records the model version keeps for the post-deploy smoke test.
SMOKE_SAMPLES: Final = 50


@dataclass(frozen=True)
class PreprocessResult:
    """Everything the step writes: transformed splits, the raw test rows, transformer, baseline."""

    splits: dict[str, pd.DataFrame]
    test_raw: pd.DataFrame
    transformer: FeatureTransformer
    statistics: dict[str, Any]
    constraints: dict[str, Any]


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
