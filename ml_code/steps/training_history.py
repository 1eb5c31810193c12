"""The training curve the Track step logs: XGBoost's evaluation results per boosting round, kept in
the model dir as ``contract.TRAINING_HISTORY_FILE``, ``{"<data>-<metric>": [value per round]}``
(``train-auc``, ``validation-logloss``...). A job resumed from a spot checkpoint did not see the
rounds before it: those are ``null``, so index = round still holds."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml_code import contract


@dataclass
class TrainingHistory:
    """Filled by ``xgb.train(evals_result=...)`` through :meth:`start`; written by the leader."""

    evals: dict[str, Any] = field(default_factory=dict)
    first_round: int = 0

    def start(self, first_round: int) -> dict[str, Any]:
        """The dict ``xgb.train`` fills (as ``evals_result``) for rounds from ``first_round`` on."""
        self.first_round = first_round
        self.evals.clear()
        return self.evals

    def per_round(self) -> dict[str, list[float | None]]:
        """``{"<data>-<metric>": [value per round]}``, ``None`` for rounds before ``first_round``."""
        padding: list[float | None] = [None] * self.first_round
        return {
            f"{data}-{metric}": padding + [float(value) for value in values]
            for data, metrics in self.evals.items()
            for metric, values in metrics.items()
        }

    def write(self, model_dir: Path) -> Path:
        """Write :meth:`per_round` into ``model_dir``; returns the file."""
        path = model_dir / contract.TRAINING_HISTORY_FILE
        path.write_text(json.dumps(self.per_round()), encoding="utf-8")
        return path
