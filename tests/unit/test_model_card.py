"""The card a registered version carries: the package card schema, the run's facts, the gate in words."""

from __future__ import annotations

import json
import typing
from typing import Any

import pytest
from pydantic import BaseModel
from sagemaker.core.shapes import model_card_shapes as shapes

from ml_code import contract
from ml_code.steps.model_card import (
    CARD_STATUS,
    CardFacts,
    card_facts,
    gate_decision,
    model_card_content,
    model_card_json,
)

REPORT = {
    "binary_classification_metrics": {
        "auc": {"value": 0.8364, "standard_deviation": 0.005},
        "accuracy": {"value": 0.7736, "standard_deviation": 0.004},
        "accuracy_best_constant_classifier": {"value": 0.7187, "standard_deviation": "NaN"},
        "confusion_matrix": {"0": {"0": 573, "1": 81}, "1": {"0": 125, "1": 131}},
    },
    "quality_gate": {
        "metric": "auc",
        "value": 0.8364,
        "champion_value": 0.8156,
        "champion_floor": 0.8056,
        "champion_model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/2",
    },
}


def facts(**overrides: Any) -> CardFacts:
    base: dict[str, Any] = {
        "problem_type": "binary",
        "target": "churn",
        "report": REPORT,
        "gate": contract.GATE_PASSED,
        "threshold": 0.7,
        "margin": 0.01,
        "hyperparameters": {"max_depth": "5", "eta": "0.1"},
        "training_data": "s3://bucket/input/",
        "pipeline": "mlops-dev-training",
        "execution_arn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-dev-training/execution/abc",
        "run_id": "0123456789abcdef",
        "experiment_id": "1",
        "model_artifact": "s3://bucket/pipeline-runs/abc/train/model.tar.gz",
        "data_fingerprint": "9f3c",
        "data_rows": 4000,
        "final_training_metrics": {"validation-auc": 0.84, "train-auc": float("nan")},
        "rounds": 57,
    }
    return CardFacts(**{**base, **overrides})


def unknown_keys(value: Any, model: type[BaseModel], where: str = "") -> list[str]:
    """Keys of ``value`` the SDK's shape ``model`` does not have, recursively (its models allow extras)."""
    found = []
    for key, item in value.items():
        fld = model.model_fields.get(key)
        if fld is None:
            found.append(f"{where}{key}")
            continue
        for candidate in _models(fld.annotation):
            items = item if isinstance(item, list) else [item]
            for element in items:
                if isinstance(element, dict):
                    found += unknown_keys(element, candidate, f"{where}{key}.")
    return found


def _models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def test_the_card_follows_the_model_package_card_schema() -> None:
    content = model_card_content(facts())
    # THEN the SDK's shapes accept it and it has no key they do not know
    shapes.ModelCardContent.model_validate(content)
    assert unknown_keys(content, shapes.ModelCardContent) == []
    # AND it keeps to the package card's restrictions: no package details, overview of two keys
    assert "model_package_details" not in content
    assert set(content["model_overview"]) <= {"model_creator", "model_artifact"}
    # AND the JSON is strict (no NaN) and byte-stable
    text = model_card_json(facts())
    assert text == model_card_json(facts())
    assert "NaN" not in text
    assert len(text) < 100_000
    assert CARD_STATUS in ("Draft", "PendingReview", "Approved", "Archived")


def test_the_card_carries_the_runs_facts() -> None:
    content = model_card_content(facts())
    metrics = {
        m["name"]: m["value"] for m in content["evaluation_details"][0]["metric_groups"][0]["metric_data"]
    }
    # every finite scalar test metric, not the matrix
    assert metrics == {"auc": 0.8364, "accuracy": 0.7736, "accuracy_best_constant_classifier": 0.7187}
    job = content["training_details"]["training_job_details"]
    assert job["hyper_parameters"] == [{"name": "eta", "value": "0.1"}, {"name": "max_depth", "value": "5"}]
    assert job["training_metrics"] == [{"name": "validation-auc", "value": 0.84}]  # NaN left out
    assert job["training_datasets"] == ["s3://bucket/input/"]
    assert (
        content["training_details"]["training_observations"]
        == "57 boosting rounds on s3://bucket/input/ (4,000 rows)."
    )
    assert content["additional_information"]["custom_details"] == {
        "gate": "passed",
        "mlflow_run_id": "0123456789abcdef",
        "mlflow_experiment_id": "1",
        "pipeline_execution_arn": facts().execution_arn,
        "data_fingerprint": "9f3c",
    }
    assert content["model_overview"]["model_artifact"] == ["s3://bucket/pipeline-runs/abc/train/model.tar.gz"]


@pytest.mark.parametrize(
    ("gate", "message", "expected"),
    [
        (
            contract.GATE_PASSED,
            "Passed: auc 0.8364 on 600 test rows beats ...",
            "Passed: auc 0.8364 on 600 test rows beats ...",
        ),
        (contract.GATE_REJECTED, None, "Held: test auc 0.8364."),
    ],
)
def test_the_gates_decision_is_evaluates_sentence(gate: str, message: str | None, expected: str) -> None:
    report = json.loads(json.dumps(REPORT))
    report["quality_gate"] = {"metric": "auc", "value": 0.8364, **({"message": message} if message else {})}
    assert gate_decision(facts(gate=gate, report=report)) == expected
    card = model_card_content(facts(gate=gate, report=report))
    assert card["evaluation_details"][0]["evaluation_observation"] == expected


def test_the_cards_facts_come_from_the_runs_params_and_history() -> None:
    params = {
        "problem_type": "binary", "target_column": "churn", "threshold": "0.7", "champion_margin": "0.01",
        "input_data_uri": "s3://bucket/input/", "hp.eta": "0.1", "data_rows": "4000",
        "data_fingerprint": "9f",
        "model_data_uri": "s3://bucket/model.tar.gz", "code_uri": "s3://bucket/code.tar.gz",
    }  # fmt: skip
    history = {"validation-auc": [0.7, 0.8, 0.84], "train-auc": [0.7, 0.9, None]}
    found = card_facts(params, REPORT, history, gate="passed", pipeline="p", execution_arn="arn",
                       run_id="r", experiment_id="1")  # fmt: skip
    assert found.hyperparameters == {"eta": "0.1"}
    assert (found.data_rows, found.rounds, found.model_artifact) == (4000, 3, "s3://bucket/model.tar.gz")
    assert found.final_training_metrics == {"validation-auc": 0.84}  # a round without a value is no value
    # a param the card needs, missing, is named
    without_target = {k: v for k, v in params.items() if k != "target_column"}
    with pytest.raises(ValueError, match="'target_column'"):
        card_facts(without_target, REPORT, history, gate="passed", pipeline="p", execution_arn="arn",
                   run_id="r", experiment_id="1")  # fmt: skip
