"""Spot training's checkpoints: a callback that keeps the last one in the checkpoint dir, and the
booster to resume from when a restarted job finds one there. ``train.py`` re-exports both names."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ml_code import contract
from ml_code.xgboost_lib import xgb

LOG = logging.getLogger(__name__)


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
