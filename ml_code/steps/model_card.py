"""The model card a registered version carries: generated from the run, never hand-written.

SageMaker keeps one card per model package version (``CreateModelPackage``'s ``ModelCard``), in
the *model package model card* schema: the model card JSON schema without
``model_package_details``, and a ``model_overview`` of only ``model_creator`` and
``model_artifact``. :func:`model_card_content` fills it from what the pipeline knows when the
Track step runs (after the gate, before Register): the problem and target, the training data and
its fingerprint, the hyperparameters, the last round of the training curve, every scalar metric of
the test split, the gate's decision in words, and where the MLflow run is. Intended use and risk
are stated as what the pipeline can vouch for; the approver owns the risk rating.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ml_code import contract

#: ``ModelCardStatus`` of a card the pipeline writes: a human reviews it with the version.
CARD_STATUS: Final = "PendingReview"
_PROBLEM_WORDS: Final = {
    "binary": "binary classification",
    "multiclass": "multiclass classification",
    "regression": "regression",
}
#: The schema's limits (ModelCardContent: 100,000 characters; names 255, observations 1,024/2,096).
_MAX_TEXT: Final = 1024
_MAX_OBSERVATION: Final = 2096


@dataclass(frozen=True, kw_only=True)
class CardFacts:
    """What the card is written from (all known to the Track step)."""

    problem_type: str
    target: str
    #: evaluation.json as Evaluate wrote it (its metrics section and ``quality_gate``).
    report: Mapping[str, Any]
    gate: str  # contract.GATE_PASSED or GATE_REJECTED
    #: The run's QualityThreshold (None: ``none``, no absolute threshold).
    threshold: float | None
    margin: float
    hyperparameters: Mapping[str, str]
    training_data: str
    pipeline: str
    execution_arn: str
    run_id: str
    experiment_id: str
    model_artifact: str | None = None
    data_fingerprint: str | None = None
    data_rows: int | None = None
    #: The training curve's last round, e.g. {"validation-auc": 0.84}, and how many rounds ran.
    final_training_metrics: Mapping[str, float] = field(default_factory=dict)
    rounds: int | None = None


def card_facts(
    params: Mapping[str, str],
    report: Mapping[str, Any],
    history: Mapping[str, list[Any]],
    *,
    gate: str,
    pipeline: str,
    execution_arn: str,
    run_id: str,
    experiment_id: str,
) -> CardFacts:
    """The card's facts from what the Track step logs: its params (the definition's ``--param``
    values plus ``data_fingerprint``/``data_rows``), the report and the training history.

    Raises:
        ValueError: a param the card needs is missing or not a number.
    """

    def need(key: str) -> str:
        if key not in params:
            raise ValueError(f"the model card needs the run's param {key!r}; the Track step got none")
        return params[key]

    last = {key: float(values[-1]) for key, values in history.items() if values and _finite(values[-1])}
    rows = params.get("data_rows", "")
    return CardFacts(
        problem_type=need("problem_type"),
        target=need("target_column"),
        report=report,
        gate=gate,
        threshold=_threshold(need("threshold")),
        margin=float(need("champion_margin")),
        hyperparameters={k.removeprefix("hp."): v for k, v in params.items() if k.startswith("hp.")},
        training_data=need("input_data_uri"),
        pipeline=pipeline,
        execution_arn=execution_arn,
        run_id=run_id,
        experiment_id=experiment_id,
        model_artifact=params.get("model_data_uri"),
        data_fingerprint=params.get("data_fingerprint"),
        data_rows=int(rows) if rows.isdigit() else None,
        final_training_metrics=last,
        rounds=max((len(values) for values in history.values()), default=None),
    )


def _threshold(text: str) -> float | None:
    return None if text.strip().lower() in {"", "none"} else float(text)


def gate_decision(facts: CardFacts) -> str:
    """The gate's decision in words, with the numbers it compared: Evaluate's own sentence."""
    gate = facts.report.get(contract.GATE_SECTION, {})
    message = gate.get("message")
    if isinstance(message, str) and message:
        return message
    verdict = "Passed" if facts.gate == contract.GATE_PASSED else "Held"
    return f"{verdict}: test {gate.get('metric', '?')} {_number(gate.get('value'))}."


def model_card_content(facts: CardFacts) -> dict[str, Any]:
    """The card's content (model package model card schema), as a dict."""
    problem = _PROBLEM_WORDS.get(facts.problem_type, facts.problem_type)
    rows = f"{facts.data_rows:,} rows" if facts.data_rows is not None else "its rows"
    overview: dict[str, Any] = {"model_creator": f"SageMaker pipeline {facts.pipeline}"}
    if facts.model_artifact:
        overview["model_artifact"] = [facts.model_artifact]
    return {
        "model_overview": overview,
        "intended_uses": {
            "purpose_of_model": _text(
                f"Predict '{facts.target}' ({problem}) for records shaped like {facts.training_data}."
            ),
            "intended_uses": _text(
                "Scoring records with the training data's columns, through the platform's endpoints "
                "or batch scoring, after a human approves this version."
            ),
            "factors_affecting_model_efficiency": _text(
                "Drift of the inputs away from the training data (watched against this version's "
                "baseline); columns the training data did not have are ignored."
            ),
            "risk_rating": "Unknown",
            "explanations_for_risk_rating": "Not assessed by the pipeline: the approver rates it.",
        },
        "training_details": _training_details(facts, rows),
        "evaluation_details": [_evaluation(facts)],
        "additional_information": {
            "caveats_and_recommendations": _text(
                "Metrics are on the held-out test split of the same data; check them against "
                "the champion's before approving."
            ),
            "custom_details": _custom_details(facts),
        },
    }


def model_card_json(facts: CardFacts) -> str:
    """The content as ``ModelCardContent`` takes it: compact JSON, keys sorted (byte-stable)."""
    return json.dumps(model_card_content(facts), sort_keys=True, separators=(",", ":"), allow_nan=False)


def _training_details(facts: CardFacts, rows: str) -> dict[str, Any]:
    metric = facts.report.get(contract.GATE_SECTION, {}).get("metric", "")
    rounds = f"{facts.rounds} boosting rounds" if facts.rounds is not None else "XGBoost"
    return {
        "objective_function": {"function": "Maximize", "facet": str(metric)[:63]},
        "training_observations": _text(f"{rounds} on {facts.training_data} ({rows})."),
        "training_job_details": {
            "training_datasets": [facts.training_data],
            "hyper_parameters": [
                {"name": k, "value": str(v)[:255]} for k, v in sorted(facts.hyperparameters.items())
            ],
            "training_metrics": [
                {"name": name, "value": value}
                for name, value in sorted(facts.final_training_metrics.items())
                if math.isfinite(value)
            ],
        },
    }


def _evaluation(facts: CardFacts) -> dict[str, Any]:
    section = contract.METRICS_SECTION_BY_PROBLEM.get(facts.problem_type, "")
    metrics = facts.report.get(section, {})
    data = [
        {"name": name, "type": "number", "value": entry["value"]}
        for name, entry in sorted(metrics.items())
        if isinstance(entry, Mapping) and _finite(entry.get("value"))
    ]
    return {
        "name": "test split",
        "evaluation_observation": gate_decision(facts)[:_MAX_OBSERVATION],
        "datasets": [facts.training_data],
        "metric_groups": [{"name": section[:63] or "metrics", "metric_data": data}],
    }


def _custom_details(facts: CardFacts) -> dict[str, str]:
    details = {
        "gate": facts.gate,
        "mlflow_run_id": facts.run_id,
        "mlflow_experiment_id": facts.experiment_id,
        "pipeline_execution_arn": facts.execution_arn,
    }
    if facts.data_fingerprint:
        details["data_fingerprint"] = facts.data_fingerprint
    return details


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number(value: Any) -> str:
    return f"{value:.4f}" if _finite(value) else "?"


def _text(text: str) -> str:
    return text[:_MAX_TEXT]
