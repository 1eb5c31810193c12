"""The prediction record schema ``ml_code.inference.output_fn`` writes, checked from outside.

One record per input row, by problem type:

- binary: ``{"predicted_label": label, "probability": p}`` with p in [0, 1];
- multiclass: ``{"predicted_label": label, "probabilities": {str(label): p, ...}}``, each p in
  [0, 1], summing to 1, the predicted label among the keys;
- regression: ``{"score": x}`` with x a finite number.
"""

from __future__ import annotations

import math
from typing import Any, Final

#: float32 probabilities rounded to 7 decimals; a softmax over k classes sums to 1 within this.
SUM_TOLERANCE: Final = 1e-3


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _probability(value: Any) -> bool:
    return _number(value) and 0.0 <= value <= 1.0


def _label(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and value != ""


def prediction_problem(record: Any) -> str | None:
    """Why ``record`` is not a valid prediction (one short sentence), or None when it is."""
    if not isinstance(record, dict):
        return f"a prediction must be a JSON object, got {type(record).__name__}"
    keys = set(record)
    if keys == {"score"}:
        return None if _number(record["score"]) else f"score {record['score']!r} is not a finite number"
    if keys == {"predicted_label", "probability"}:
        if not _label(record["predicted_label"]):
            return f"predicted_label {record['predicted_label']!r} is not a label"
        probability = record["probability"]
        return None if _probability(probability) else f"probability {probability!r} is not in [0, 1]"
    if keys == {"predicted_label", "probabilities"}:
        return _multiclass_problem(record["predicted_label"], record["probabilities"])
    return (
        f"unexpected keys {sorted(keys)}; expected score, predicted_label+probability "
        "or predicted_label+probabilities"
    )


def _multiclass_problem(label: Any, probabilities: Any) -> str | None:
    if not isinstance(probabilities, dict) or len(probabilities) < 2:
        return f"probabilities must be an object of 2+ classes, got {probabilities!r}"
    bad = {k: v for k, v in probabilities.items() if not _probability(v)}
    if bad:
        return f"probabilities not in [0, 1]: {bad}"
    total = sum(probabilities.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        return f"probabilities sum to {total:.4f}, not 1"
    if not _label(label) or str(label) not in probabilities:
        return f"predicted_label {label!r} is not one of the classes {sorted(probabilities)}"
    return None
