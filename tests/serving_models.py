"""Tiny real models for the serving tests, trained through the pipeline's own functions.

sample data -> preprocess -> train, on a temp dir, for each problem type: the churn
frame's ``churn`` (binary), ``contract`` (multiclass, string labels) and
``monthly_charges`` (regression). A few hundred rows and rounds keep it to about a second.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pandas as pd

from ml_code import contract, sample_data
from ml_code.steps.preprocess import preprocess, write_outputs
from ml_code.steps.train import Hyperparameters, TrainingData, train

TARGETS = {"binary": "churn", "multiclass": "contract", "regression": "monthly_charges"}


def raw_frame(rows: int = 400, seed: int = 7) -> pd.DataFrame:
    return sample_data.generate(rows, seed)


def build_model(root: Path, problem_type: str, rows: int = 400) -> Path:
    """Train a tiny model for ``problem_type`` under ``root``; returns the model dir."""
    dirs = {name: root / "pre" / name for name in contract.PREPROCESS_OUTPUTS}
    write_outputs(preprocess(raw_frame(rows), TARGETS[problem_type], problem_type, seed=1), dirs)
    model_dir = root / "model"
    data = TrainingData(
        train_dir=dirs["train"], validation_dir=dirs["validation"], transformer_dir=dirs["transformer"]
    )
    train(data, model_dir, Hyperparameters(num_round=15, early_stopping_rounds=5))
    return model_dir


def raw_rows(problem_type: str, n: int) -> pd.DataFrame:
    """``n`` raw feature rows (no target) in the model's feature order."""
    frame = raw_frame(max(n, 10), seed=99).head(n)
    return frame.drop(columns=[TARGETS[problem_type]])


def tar_model(model_dir: Path, out: Path) -> Path:
    """Pack a model dir the way a training job does: files at the root of model.tar.gz."""
    with tarfile.open(out, "w:gz") as tar:
        for path in sorted(model_dir.iterdir()):
            tar.add(path, arcname=path.name)
    return out
