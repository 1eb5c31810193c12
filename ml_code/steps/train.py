"""Train step: XGBoost with early stopping on the validation split.

Pure functions (:func:`hyperparameters_from`, :func:`load_split`, :func:`xgb_params`,
:func:`train_booster`, :func:`model_meta`, :func:`train`) behind a thin :func:`main` that maps
what SageMaker gives the training container (the job runs ``python3 train.py`` under the
platform's own entrypoint, not the image's script-mode toolkit):

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
import json
import logging
import platform
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Final

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

LOG = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]
Vector = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class Hyperparameters:
    """The training job's hyperparameters (names as SageMaker passes them)."""

    num_round: int = 300
    max_depth: int = 5
    eta: float = 0.1
    subsample: float = 0.9
    early_stopping_rounds: int = 20
    seed: int = 42


#: What each bounded hyperparameter must satisfy, and how the error says it.
_BOUNDS: Final[dict[str, tuple[Callable[[float], bool], str]]] = {
    "num_round": (lambda v: v >= 1, ">= 1"),
    "max_depth": (lambda v: v >= 0, ">= 0"),
    "eta": (lambda v: v > 0, "> 0"),
    "subsample": (lambda v: 0 < v <= 1, "in (0, 1]"),
    "early_stopping_rounds": (lambda v: v >= 0, ">= 0"),
}
#: Names SageMaker itself may add to a job's hyperparameters (automatic model tuning).
_SAGEMAKER_ADDED: Final = frozenset({"_tuning_objective_metric"})


def _number(text: str) -> int | float | str:
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    return text


def _typed(name: str, value: Any, kind: type) -> int | float | str:
    """``value`` as ``kind`` (int or float), or the problem with it as text.

    A number in a string counts (``"0.3"``: what a JSON-quoted numeric hyperparameter decodes to).
    """
    what = "an integer" if kind is int else "a number"
    if isinstance(value, str):
        value = _number(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{name} must be {what}, got {value!r}"
    if kind is int and isinstance(value, float) and not value.is_integer():
        return f"{name} must be {what}, got {value!r}"
    try:
        typed: int | float = kind(value)
    except OverflowError:
        return f"{name} must be {what} of a usable size, got {value!r}"
    allowed, bound = _BOUNDS.get(name, (lambda _: True, ""))
    return typed if allowed(typed) else f"{name} must be {bound}, got {value!r}"


def hyperparameters_from(values: Mapping[str, Any]) -> Hyperparameters:
    """The :class:`Hyperparameters` for decoded ``values`` (missing names keep their defaults).

    Raises:
        DataValidationError: naming every unknown hyperparameter and every bad value.
    """
    known = {f.name: f for f in fields(Hyperparameters)}
    unknown = sorted(set(values) - set(known) - _SAGEMAKER_ADDED)
    if unknown:
        raise DataValidationError(
            f"unknown hyperparameter(s) {', '.join(unknown)}; train.py accepts {', '.join(sorted(known))}"
        )
    kinds = {name: type(getattr(Hyperparameters(), name)) for name in known}
    typed = {name: _typed(name, value, kinds[name]) for name, value in values.items() if name in known}
    problems = [str(v) for name, v in typed.items() if isinstance(v, str)]
    if problems:
        raise DataValidationError(f"bad hyperparameter(s): {'; '.join(problems)}")
    return Hyperparameters(**typed)  # type: ignore[arg-type]


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


class Checkpoint(xgb.callback.TrainingCallback):
    """Overwrite one checkpoint file every ``interval`` rounds (atomically, via a rename)."""

    def __init__(self, path: Path, interval: int = 10) -> None:
        super().__init__()
        self.path = path
        self.interval = interval

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        if (epoch + 1) % self.interval == 0:
            partial = self.path.with_suffix(".partial.json")
            model.save_model(str(partial))
            partial.replace(self.path)
        return False  # never stops training


def resume_from(checkpoint_dir: Path | None) -> xgb.Booster | None:
    """The booster of the last checkpoint in ``checkpoint_dir``, if any."""
    if checkpoint_dir is None or not (checkpoint_dir / contract.CHECKPOINT_FILE).is_file():
        return None
    booster = xgb.Booster()
    booster.load_model(str(checkpoint_dir / contract.CHECKPOINT_FILE))
    LOG.info("resuming from checkpoint after %d rounds", booster.num_boosted_rounds())
    return booster


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


def model_meta(booster: xgb.Booster, transformer: FeatureTransformer, hp: Hyperparameters) -> dict[str, Any]:
    """What the model package records next to the model: problem, labels, features, versions."""
    return {
        "problem_type": transformer.problem_type,
        "target": transformer.target,
        "labels": transformer.labels,
        "feature_names": transformer.feature_names,
        "output_names": transformer.output_names,
        "best_iteration": int(booster.attr("best_iteration") or booster.num_boosted_rounds() - 1),
        "best_score": float(score) if (score := booster.attr("best_score")) else None,
        "num_boosted_rounds": booster.num_boosted_rounds(),
        "hyperparameters": asdict(hp),
        "library_versions": {
            "python": platform.python_version(),
            "xgboost": xgb.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
        },
    }


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
    model_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(model_dir / contract.MODEL_FILE))
    (model_dir / contract.TRANSFORMER_FILE).write_text(transformer.to_json(), encoding="utf-8")
    (model_dir / contract.MODEL_META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    package_serving_code(model_dir)
    return meta


def package_serving_code(model_dir: Path) -> Path:
    """Copy this ml_code package and the serving shim into ``model_dir/code``; returns that dir.

    The hosting container imports ``inference.py`` from SAGEMAKER_SUBMIT_DIRECTORY, which
    the registered model points at this folder, so the model carries its own serving code.
    """
    code_dir = model_dir / contract.MODEL_CODE_DIR
    if code_dir.exists():
        shutil.rmtree(code_dir)
    package = Path(__file__).resolve().parents[1]  # ml_code, not ml_code/steps
    shutil.copytree(
        package, code_dir / package.name, ignore=shutil.ignore_patterns("__pycache__", "*.py[co]")
    )
    (code_dir / contract.SERVING_PROGRAM).write_text(contract.SERVING_SHIM_SOURCE, encoding="utf-8")
    return code_dir


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
