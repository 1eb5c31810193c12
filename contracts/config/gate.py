"""``pipeline.gate``: how the quality gate judges a candidate (Evaluate decides; see ml_code/steps/gate_*).

The default floor is relative: beat the naive baseline (the best constant prediction) by ``minLift``
(+0.05 on AUC, macro-F1 or r2; 5 % lower RMSE, MAE or log-loss). ``thresholds`` adds absolute floors
per metric (``{"auc": 0.7}``); the run's ``QualityThreshold`` parameter (default:
``pipeline.qualityThreshold``, the old key, when set) is the threshold of the run's gate metric and
wins over ``thresholds`` for it. Against the approved champion, the challenger must not be worse by
more than ``pipeline.championMargin`` (for RMSE, MAE or log-loss: that share of the champion's value)
at ``confidence`` (a seeded paired bootstrap of ``resamples``).
Fewer than ``minTestRows`` test rows, or a class with fewer than ``minClassRows``: "cannot judge".
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass

from contracts.config.base import SECTION, check, integer, number, one_of
from ml_code import contract

GateMetricName = Literal["auto", "auc", "macro_f1", "log_loss", "rmse", "mae", "r2"]


def _are_thresholds(value: Any) -> bool:
    return isinstance(value, dict) and all(
        key in contract.GATE_HIGHER_IS_BETTER and type(v) in (int, float) for key, v in value.items()
    )


Thresholds = Annotated[
    dict[str, float],
    check(f"an object of metric ({', '.join(contract.GATE_HIGHER_IS_BETTER)}) to number", _are_thresholds),
    AfterValidator(lambda found: {key: float(value) for key, value in sorted(found.items())}),
]


@dataclass(frozen=True, kw_only=True, config=SECTION)
class GateConfig:
    """The quality gate's rules (see the module doc)."""

    metric: Annotated[GateMetricName, one_of(get_args(GateMetricName))] = "auto"
    min_lift: Annotated[float, number(0.0, 1.0)] = 0.05
    thresholds: Thresholds = Field(default_factory=dict)
    confidence: Annotated[float, number(0.5, 0.999)] = 0.95
    resamples: Annotated[int, integer(100, 10_000)] = 1000
    min_test_rows: Annotated[int, integer(1, 1_000_000)] = 50
    min_class_rows: Annotated[int, integer(1, 1_000_000)] = 10

    def arguments(self) -> list[str]:
        """Evaluate's gate arguments for these rules (ml_code/steps/gate_settings.py reads them)."""
        found = [
            "--gate-metric", self.metric, "--min-lift", f"{self.min_lift:g}",
            "--confidence", f"{self.confidence:g}", "--resamples", str(self.resamples),
            "--min-test-rows", str(self.min_test_rows), "--min-class-rows", str(self.min_class_rows),
        ]  # fmt: skip
        for metric, value in self.thresholds.items():
            found += ["--gate-threshold", f"{metric}={value:g}"]
        return found
