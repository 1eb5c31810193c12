"""The prediction record schema ``ml_code.serving.inference.output_fn`` writes, checked from outside.

Plain functions, not pydantic models: the checks compare records with each other (one shape per
model, one label per side of 0.5) and each failure is one sentence the smoke report prints.

One record per input row, by problem type:

- binary: ``{"predicted_label": label, "probability": p}`` with p in [0, 1];
- multiclass: ``{"predicted_label": label, "probabilities": {str(label): p, ...}}``, each p in
  [0, 1], summing to 1, the predicted label the most probable class;
- regression: ``{"score": x}`` with x a finite number.

:func:`prediction_problem` checks one record; :class:`SchemaChecker` checks a run of them against
the model's problem type (as recorded with the model version) and against each other;
:func:`response_problem` checks a whole response to one single-record request.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

#: float32 probabilities rounded to 7 decimals; a softmax over k classes sums to 1 within this.
SUM_TOLERANCE: Final = 1e-3
#: Two probabilities this close are a tie (the 7-decimal rounding of output_fn).
TIE_TOLERANCE: Final = 1e-6
KINDS: Final = {
    frozenset({"score"}): "regression",
    frozenset({"predicted_label", "probability"}): "binary",
    frozenset({"predicted_label", "probabilities"}): "multiclass",
}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _probability(value: Any) -> bool:
    return _number(value) and 0.0 <= value <= 1.0


def _label(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and value != ""


def prediction_kind(record: Any) -> str | None:
    """The problem type whose record shape ``record`` has (by its keys), or None."""
    return KINDS.get(frozenset(record)) if isinstance(record, dict) else None


def prediction_problem(record: Any, expected: str | None = None) -> str | None:
    """Why ``record`` is not a valid prediction (one short sentence), or None when it is.

    With ``expected`` (binary, multiclass or regression) the record must also have that shape.
    """
    if not isinstance(record, dict):
        return f"a prediction must be a JSON object, got {type(record).__name__}"
    kind = prediction_kind(record)
    if kind is None:
        return (
            f"unexpected keys {sorted(record)}; expected score, predicted_label+probability "
            "or predicted_label+probabilities"
        )
    if expected is not None and kind != expected:
        return f"a {kind} prediction {record} from a {expected} model"
    if kind == "regression":
        return None if _number(record["score"]) else f"score {record['score']!r} is not a finite number"
    if kind == "binary":
        return _binary_problem(record["predicted_label"], record["probability"])
    return _multiclass_problem(record["predicted_label"], record["probabilities"])


def _binary_problem(label: Any, probability: Any) -> str | None:
    if not _label(label):
        return f"predicted_label {label!r} is not a label"
    return None if _probability(probability) else f"probability {probability!r} is not in [0, 1]"


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
    if probabilities[str(label)] < max(probabilities.values()) - TIE_TOLERANCE:
        return f"predicted_label {label!r} is not the most probable class in {probabilities}"
    return None


class SchemaChecker:
    """Checks a model's predictions one by one, remembering what earlier ones established.

    ``problem_type`` None (not recorded) makes the first valid prediction's shape the expected
    one, so a model answering in two shapes still fails. Binary predictions must map p >= 0.5 and
    p < 0.5 to one label each, and two different ones, as ``output_fn`` does.
    """

    def __init__(self, problem_type: str | None = None) -> None:
        self.expected = problem_type
        #: (p >= 0.5) -> (label, sample index that showed it)
        self._binary: dict[bool, tuple[Any, int]] = {}

    def check(self, record: Any, sample: int) -> str | None:
        """Why the prediction for ``sample`` fails, or None; valid ones update what is expected."""
        problem = prediction_problem(record, self.expected)
        if problem is not None:
            return problem
        kind = prediction_kind(record)
        self.expected = self.expected or kind
        if kind == "binary":
            return self._binary_problem(record["predicted_label"], record["probability"] >= 0.5, sample)
        return None

    def _binary_problem(self, label: Any, positive: bool, sample: int) -> str | None:
        seen = self._binary.get(positive)
        if seen is not None and seen[0] != label:
            side = ">=" if positive else "<"
            return f"predicted_label {label!r} at probability {side} 0.5, {seen[0]!r} for sample {seen[1]}"
        other = self._binary.get(not positive)
        if other is not None and other[0] == label:
            return f"predicted_label {label!r} on both sides of 0.5 (also sample {other[1]})"
        self._binary.setdefault(positive, (label, sample))
        return None


def response_problem(status: int, body: bytes, checker: SchemaChecker, sample: int) -> str | None:
    """Why the response to ``sample`` (sent alone) fails: ``"status: ..."`` or ``"schema: ..."``; or None."""
    if status != 200:
        return f"status: HTTP {status}: {body[:200].decode('utf-8', 'replace')}"
    try:
        document = json.loads(body)
    except ValueError:
        return f"schema: body is not JSON: {body[:80]!r}"
    predictions = document.get("predictions") if isinstance(document, dict) else None
    if not isinstance(predictions, list) or len(predictions) != 1:
        return f'schema: expected {{"predictions": [one record]}}, got {str(document)[:120]}'
    problem = checker.check(predictions[0], sample)
    return None if problem is None else f"schema: {problem}"
