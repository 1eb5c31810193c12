"""Train step: XGBoost with early stopping on the validation split.

Pure functions (:func:`load_split`, :func:`xgb_params`, :func:`train_booster`, :func:`train`;
the hyperparameters are checked in :mod:`ml_code.steps.hyperparameters`, spot checkpoints kept in
:mod:`ml_code.steps.checkpoint`, the model dir written by :mod:`ml_code.steps.model_dir`) behind a
thin :func:`main` that maps what SageMaker gives the training container (the job runs
``python3 train.py`` under the platform's own entrypoint, not the image's script-mode toolkit):

- hyperparameters from ``/opt/ml/input/config/hyperparameters.json`` (values JSON-decoded, as
  the toolkit does); a ``--num_round 300`` style flag (tests, local runs) wins over the file;
- the ``train`` and ``validation`` channels from ``/opt/ml/input/data/<name>`` (``SM_CHANNEL_*``
  honoured when set; ``--train-dir`` / ``--validation-dir`` win);
- the model dir ``/opt/ml/model`` (``SM_MODEL_DIR``, ``--model-dir``).

Whatever stops it (bad data, an unknown or bad hyperparameter, a missing channel) ends in
``/opt/ml/output/failure`` via :func:`ml_code.container.run_step`, which SageMaker shows as the
job's FailureReason.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import xgboost as xgb

from ml_code import contract
from ml_code.container import (
    container_path,
    decode_hyperparameter,
    read_hyperparameters,
    run_step,
    sm_env_path,
    training_channel,
)
from ml_code.errors import DataValidationError
from ml_code.features import FeatureTransformer
from ml_code.steps.checkpoint import Checkpoint, resume_from
from ml_code.steps.hyperparameters import Hyperparameters, hyperparameters_from
from ml_code.steps.model_dir import model_meta, package_serving_code, write_model_dir

#: Names other code imports from here; the hyperparameters, the checkpoints and the model dir's
#: contents live in their own modules beside this one.
__all__ = [
    "Checkpoint",
    "Hyperparameters",
    "Matrix",
    "Vector",
    "hyperparameters_from",
    "load_split",
    "main",
    "model_meta",
    "package_serving_code",
    "parse_args",
    "resume_from",
    "train",
    "train_booster",
    "xgb_params",
]

LOG = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]
Vector = npt.NDArray[np.float64]


def load_split(path: Path, transformer: FeatureTransformer) -> tuple[Matrix, Vector]:
    """Features and target of a split CSV written by preprocess.

    Raises DataValidationError naming the file: unreadable/empty, wrong header, non-numeric
    cells, missing targets or class indices outside the transformer's labels.
    """
    # Messages name the file, not its folder: the same words in SageMaker and offline.
    if not path.is_file():
        raise DataValidationError(f"{path.name} not found in its channel")
    try:
        frame = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"cannot read {path.name}: {exc}") from exc
    expected = [contract.TARGET_COLUMN_IN_SPLITS, *transformer.output_names]
    if list(frame.columns) != expected:
        raise DataValidationError(
            f"{path.name} header does not match transformer.json: expected {len(expected)} columns "
            f"starting {expected[:3]}, got {len(frame.columns)} starting {list(frame.columns)[:3]}"
        )
    if frame.empty:
        raise DataValidationError(f"{path.name} has no rows")
    bad = [str(c) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise DataValidationError(f"{path.name} has non-numeric values in columns {bad[:5]}")
    target = frame.pop(contract.TARGET_COLUMN_IN_SPLITS).to_numpy(dtype=np.float64)
    if np.isnan(target).any():
        raise DataValidationError(f"{path.name} has {int(np.isnan(target).sum())} rows without a target")
    if transformer.labels is not None:
        n_classes = len(transformer.labels)
        if not np.isin(target, np.arange(n_classes)).all():
            raise DataValidationError(f"{path.name} has class indices outside 0..{n_classes - 1}")
    return frame.to_numpy(dtype=np.float32), target


def xgb_params(problem_type: str, n_classes: int, hp: Hyperparameters) -> dict[str, Any]:
    """Booster parameters; the last eval metric is the one early stopping watches."""
    objective: dict[str, dict[str, Any]] = {
        "binary": {"objective": "binary:logistic", "eval_metric": ["logloss", "auc"]},
        "multiclass": {"objective": "multi:softprob", "num_class": n_classes, "eval_metric": ["mlogloss"]},
        "regression": {"objective": "reg:squarederror", "eval_metric": ["rmse"]},
    }
    if problem_type not in objective:
        raise ValueError(f"problem_type must be one of {contract.PROBLEM_TYPES}, got {problem_type!r}")
    return {
        **objective[problem_type],
        "max_depth": hp.max_depth,
        "eta": hp.eta,
        "subsample": hp.subsample,
        "seed": hp.seed,
        "tree_method": "hist",
        "verbosity": 1,
    }


def train_booster(
    train: tuple[Matrix, Vector],
    validation: tuple[Matrix, Vector],
    params: dict[str, Any],
    hp: Hyperparameters,
    checkpoint_dir: Path | None = None,
) -> xgb.Booster:
    """Train with early stopping; return the booster cut at its best iteration.

    Cutting makes the saved model predict with the best trees by default, so serving needs
    no ``iteration_range``. With ``checkpoint_dir`` (spot training), a checkpoint is written
    every 10 rounds and a restarted job continues from the last one.
    """
    dtrain, dvalid = xgb.DMatrix(*train), xgb.DMatrix(*validation)
    resumed = resume_from(checkpoint_dir)
    done = resumed.num_boosted_rounds() if resumed is not None else 0
    callbacks: list[xgb.callback.TrainingCallback] = []
    if checkpoint_dir is not None:
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        callbacks.append(Checkpoint(checkpoint_dir / contract.CHECKPOINT_FILE))
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=max(0, hp.num_round - done),
        evals=[(dtrain, "train"), (dvalid, "validation")],
        early_stopping_rounds=hp.early_stopping_rounds or None,  # 0 turns early stopping off
        verbose_eval=max(1, hp.num_round // 10),
        xgb_model=resumed,
        callbacks=callbacks,
    )
    if not hp.early_stopping_rounds or not hasattr(booster, "best_iteration"):
        return booster
    best, best_score = booster.best_iteration, booster.best_score
    booster = booster[: best + 1]
    booster.set_attr(best_iteration=str(best), best_score=str(best_score))
    return booster


def train(
    train_dir: Path,
    validation_dir: Path,
    model_dir: Path,
    hp: Hyperparameters,
    checkpoint_dir: Path | None = None,
) -> dict[str, Any]:
    """Train from the two channels and write the model artefacts; returns the model meta."""
    transformer_path = train_dir / contract.TRANSFORMER_FILE
    if not transformer_path.is_file():
        raise DataValidationError(f"{contract.TRANSFORMER_FILE} not found in the train channel")
    transformer = FeatureTransformer.from_json(transformer_path.read_text(encoding="utf-8"))
    train_split = load_split(train_dir / contract.TRAIN_FILE, transformer)
    validation_split = load_split(validation_dir / contract.VALIDATION_FILE, transformer)
    n_classes = len(transformer.labels or ())
    booster = train_booster(
        train_split, validation_split, xgb_params(transformer.problem_type, n_classes, hp), hp, checkpoint_dir
    )
    meta = model_meta(booster, transformer, hp)
    write_model_dir(model_dir, booster, transformer, meta)
    return meta


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train XGBoost on the preprocessed splits.")
    for field in fields(Hyperparameters):
        # Text, validated with the file's values: a bad flag fails as a bad hyperparameter does.
        parser.add_argument(f"--{field.name}", default=None, help="default: hyperparameters.json")
    parser.add_argument("--train-dir", type=Path, default=None, help="default: the train channel")
    parser.add_argument("--validation-dir", type=Path, default=None, help="default: the validation channel")
    parser.add_argument("--model-dir", type=Path, default=None, help="default: $SM_MODEL_DIR, /opt/ml/model")
    parser.add_argument(
        "--checkpoint-dir", type=Path, default=None, help="default: /opt/ml/checkpoints when it exists"
    )
    return parser.parse_args(argv)


def _run(argv: list[str] | None) -> None:
    args = parse_args(argv)
    flags = {
        f.name: decode_hyperparameter(getattr(args, f.name))
        for f in fields(Hyperparameters)
        if getattr(args, f.name) is not None
    }
    hp = hyperparameters_from({**read_hyperparameters(), **flags})
    meta = train(
        args.train_dir or training_channel(contract.TRAIN_CHANNEL),
        args.validation_dir or training_channel(contract.VALIDATION_CHANNEL),
        args.model_dir or sm_env_path("SM_MODEL_DIR", contract.TRAINING_MODEL_DIR),
        hp,
        args.checkpoint_dir or _existing(container_path(contract.CHECKPOINT_DIR)),
    )
    LOG.info("kept %d rounds; best validation score %s", meta["num_boosted_rounds"], meta["best_score"])


def _existing(path: Path) -> Path | None:
    # SageMaker creates the checkpoint folder only for jobs with a CheckpointConfig.
    return path if path.is_dir() else None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the training job; 0 on success, else 1 with the reason in the failure file."""
    return run_step(lambda: _run(argv), contract.FAILURE_FILE)


if __name__ == "__main__":
    sys.exit(main())
