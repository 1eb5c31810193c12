"""Train step: XGBoost with early stopping on the validation split, on one host or several.

Pure functions (:func:`xgb_params`, :func:`train_booster`, :func:`train`; the hyperparameters are
checked in :mod:`ml_code.steps.hyperparameters`, the split files read in
:mod:`ml_code.steps.split_files` and :mod:`ml_code.steps.training_data`, the hosts joined in
:mod:`ml_code.steps.collective`, spot checkpoints kept in :mod:`ml_code.steps.checkpoint`, the model
dir written by :mod:`ml_code.steps.model_dir`) behind a thin :func:`main` that maps what SageMaker
gives the training container (the job runs ``python3 train.py`` under the platform's own
entrypoint, not the image's script-mode toolkit):

- hyperparameters from ``/opt/ml/input/config/hyperparameters.json`` (values JSON-decoded, as
  the toolkit does); a ``--num_round 300`` style flag (tests, local runs) wins over the file;
- the ``train`` and ``validation`` channels (``part-*.csv`` files, this host's shard when the job
  has several hosts) and the ``transformer`` channel from ``/opt/ml/input/data/<name>``
  (``SM_CHANNEL_*`` honoured when set; ``--train-dir`` / ``--validation-dir`` /
  ``--transformer-dir`` win), read ``--chunk-rows`` rows at a time into a ``QuantileDMatrix``
  (an ``ExtMemQuantileDMatrix`` cached on the instance's volume once a host's share passes a few
  chunks, or always with ``--external-memory``: :mod:`ml_code.steps.training_data`);
- the hosts from ``/opt/ml/input/config/resourceconfig.json``: with more than one, ``algo-1``
  starts XGBoost's tracker, every host trains on its shard in the collective (metrics and early
  stopping are global), and only ``algo-1`` writes the model dir and the checkpoints;
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

from ml_code import contract
from ml_code.cluster import SINGLE_HOST, Cluster, read_cluster
from ml_code.container import (
    container_path,
    decode_hyperparameter,
    read_hyperparameters,
    run_step,
    sm_env_path,
    training_channel,
)
from ml_code.errors import DataValidationError
from ml_code.steps.checkpoint import Checkpoint, resume_from
from ml_code.steps.collective import collective, global_range
from ml_code.steps.hyperparameters import Hyperparameters, hyperparameters_from
from ml_code.steps.model_dir import model_meta, package_serving_code, write_model_dir
from ml_code.steps.split_files import DEFAULT_CHUNK_ROWS, load_split
from ml_code.steps.training_data import TrainingData, load_transformer, training_matrices, watchlist
from ml_code.steps.training_history import TrainingHistory
from ml_code.xgboost_lib import xgb

#: Names other code imports from here; the hyperparameters, the checkpoints, the split files and
#: the model dir's contents live in their own modules beside this one.
__all__ = [
    "Checkpoint",
    "Hyperparameters",
    "TrainingData",
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
#: A one-host job (and a step run by hand).
ALONE = Cluster(SINGLE_HOST, (SINGLE_HOST,))


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


def _resumed(checkpoint_dir: Path | None) -> xgb.Booster | None:
    """The checkpoint to continue from; every host of a job must have the same one (SageMaker
    downloads the job's checkpoint prefix onto each host), or they would grow different trees."""
    resumed = resume_from(checkpoint_dir)
    done = resumed.num_boosted_rounds() if resumed is not None else 0
    low, high = global_range(done)
    if low != high:
        raise DataValidationError(
            f"hosts resume from different checkpoints ({low} to {high} rounds done); "
            "every host must find the leader's checkpoint in its checkpoint folder"
        )
    return resumed


def train_booster(
    dtrain: xgb.DMatrix,
    dvalid: xgb.DMatrix,
    params: dict[str, Any],
    hp: Hyperparameters,
    checkpoint_dir: Path | None = None,
    *,
    leader: bool = True,
    history: TrainingHistory | None = None,
) -> xgb.Booster:
    """Train with early stopping; return the booster cut at its best iteration.

    Cutting makes the saved model predict with the best trees by default, so serving needs
    no ``iteration_range``. With ``checkpoint_dir`` (spot training), the ``leader`` writes a
    checkpoint every 10 rounds and a restarted job (every host) continues from the last one.
    ``history`` gets every round's evaluation results.

    Raises:
        DataValidationError: the hosts found different checkpoints.
    """
    resumed = _resumed(checkpoint_dir)
    done = resumed.num_boosted_rounds() if resumed is not None else 0
    callbacks: list[xgb.callback.TrainingCallback] = []
    if checkpoint_dir is not None and leader:
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        callbacks.append(Checkpoint(checkpoint_dir / contract.CHECKPOINT_FILE))
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=max(0, hp.num_round - done),
        evals=watchlist(dtrain, dvalid),
        early_stopping_rounds=hp.early_stopping_rounds or None,  # 0 turns early stopping off
        verbose_eval=max(1, hp.num_round // 10),
        xgb_model=resumed,
        callbacks=callbacks,
        evals_result=None if history is None else history.start(done),
    )
    if not hp.early_stopping_rounds or not hasattr(booster, "best_iteration"):
        return booster
    best, best_score = booster.best_iteration, booster.best_score
    booster = booster[: best + 1]
    booster.set_attr(best_iteration=str(best), best_score=str(best_score))
    return booster


def train(
    data: TrainingData,
    model_dir: Path,
    hp: Hyperparameters,
    checkpoint_dir: Path | None = None,
    cluster: Cluster = ALONE,
) -> dict[str, Any]:
    """Train on this host's share of ``data`` with the job's other hosts; returns the model meta.

    Only the leader writes ``model_dir`` (and checkpoints); every host returns the same meta.
    """
    transformer = load_transformer(data.transformer_dir)
    params = xgb_params(transformer.problem_type, len(transformer.labels or ()), hp)
    history = TrainingHistory()
    with collective(cluster), training_matrices(data, transformer, cluster) as (dtrain, dvalid):
        booster = train_booster(
            dtrain, dvalid, params, hp, checkpoint_dir, leader=cluster.is_leader, history=history
        )
        del dtrain, dvalid  # before their external memory cache is removed
    meta = model_meta(booster, transformer, hp)
    if cluster.is_leader:
        write_model_dir(model_dir, booster, transformer, meta)
        history.write(model_dir)  # the training curve, for the Track step
    else:
        LOG.info("%s trained its shard; %s writes the model", cluster.current_host, cluster.leader)
    return meta


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train XGBoost on the preprocessed splits.")
    for field in fields(Hyperparameters):
        # Text, validated with the file's values: a bad flag fails as a bad hyperparameter does.
        parser.add_argument(f"--{field.name}", default=None, help="default: hyperparameters.json")
    parser.add_argument("--train-dir", type=Path, default=None, help="default: the train channel")
    parser.add_argument("--validation-dir", type=Path, default=None, help="default: the validation channel")
    parser.add_argument("--transformer-dir", type=Path, default=None, help="default: the transformer channel")
    parser.add_argument("--model-dir", type=Path, default=None, help="default: $SM_MODEL_DIR, /opt/ml/model")
    parser.add_argument(
        "--checkpoint-dir", type=Path, default=None, help="default: /opt/ml/checkpoints when it exists"
    )
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS, help="rows read at once")
    parser.add_argument(
        "--external-memory",
        action="store_true",
        help="page the binned matrices out under /opt/ml whatever the size (else past a few chunks)",
    )
    args = parser.parse_args(argv)
    if args.chunk_rows < 1:
        raise DataValidationError(f"--chunk-rows must be >= 1, got {args.chunk_rows}")
    return args


def _run(argv: list[str] | None) -> None:
    args = parse_args(argv)
    flags = {
        f.name: decode_hyperparameter(getattr(args, f.name))
        for f in fields(Hyperparameters)
        if getattr(args, f.name) is not None
    }
    hp = hyperparameters_from({**read_hyperparameters(), **flags})
    cluster = read_cluster(contract.TRAINING_RESOURCE_CONFIG)
    data = TrainingData(
        train_dir=args.train_dir or training_channel(contract.TRAIN_CHANNEL),
        validation_dir=args.validation_dir or training_channel(contract.VALIDATION_CHANNEL),
        transformer_dir=args.transformer_dir or training_channel(contract.TRANSFORMER_CHANNEL),
        chunk_rows=args.chunk_rows,
        external_memory=args.external_memory,
    )
    model_dir = args.model_dir or sm_env_path("SM_MODEL_DIR", contract.TRAINING_MODEL_DIR)
    checkpoint_dir = args.checkpoint_dir or _existing(container_path(contract.CHECKPOINT_DIR))
    meta = train(data, model_dir, hp, checkpoint_dir, cluster)
    LOG.info("kept %d rounds; best validation score %s", meta["num_boosted_rounds"], meta["best_score"])


def _existing(path: Path) -> Path | None:
    # SageMaker creates the checkpoint folder only for jobs with a CheckpointConfig.
    return path if path.is_dir() else None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the training job; 0 on success, else 1 with the reason in the failure file."""
    return run_step(lambda: _run(argv), contract.FAILURE_FILE)


if __name__ == "__main__":
    sys.exit(main())
