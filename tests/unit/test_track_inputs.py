"""What the Track step reads, made by the earlier steps: the data fingerprint (Preprocess's baseline)
and the training history (Train's model dir), and how evaluation.json becomes metrics."""

from __future__ import annotations

import io
import json
import math

import pandas as pd
import pytest

from ml_code import contract
from ml_code.errors import DataValidationError
from ml_code.sample_data import generate
from ml_code.steps.fingerprint import fingerprint
from ml_code.steps.profile import Profile, Settings, merge_all, profile_chunks
from ml_code.steps.training_history import TrainingHistory
from ml_code.tracking.evidence import curve, flat_numbers
from ml_code.tracking.runs import Metric


def raw(rows: int = 400, seed: int = 5) -> pd.DataFrame:
    """Sample rows as the profile reads them (text)."""
    return pd.read_csv(io.StringIO(generate(rows, seed=seed).to_csv(index=False)), dtype=str)


def settings(frame: pd.DataFrame, seed: int = 42) -> Settings:
    return Settings(tuple(frame.columns), "churn", "binary", seed=seed)


def chunks(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [frame.iloc[i : i + size] for i in range(0, len(frame), size)]


def test_the_fingerprint_does_not_depend_on_order_chunks_or_hosts() -> None:
    # GIVEN the same rows read whole, shuffled in small chunks, and spread over three hosts
    frame = raw()
    whole = fingerprint(profile_chunks([frame], settings(frame)))
    shuffled = frame.sample(frac=1.0, random_state=1)
    in_chunks = fingerprint(profile_chunks(chunks(shuffled, 37), settings(frame)))
    hosts = [profile_chunks(chunks(part, 50), settings(frame)) for part in chunks(shuffled, 140)]
    merged = fingerprint(merge_all(hosts))
    via_json = fingerprint(merge_all(Profile.from_dict(json.loads(json.dumps(h.to_dict()))) for h in hosts))

    # THEN every way gives one fingerprint, which counts the rows
    assert whole == in_chunks == merged == via_json
    assert whole["rows"] == 400
    assert len(whole["fingerprint"]) == 64


@pytest.mark.parametrize("change", ["one value", "one row less", "a row twice", "the seed"])
def test_the_fingerprint_changes_with_the_rows(change: str) -> None:
    frame = raw()
    before = fingerprint(profile_chunks([frame], settings(frame)))
    seed = 42
    if change == "one value":
        frame.loc[7, "tenure_months"] = str(int(frame.loc[7, "tenure_months"]) + 1)
    elif change == "one row less":
        frame = frame.drop(index=7)
    elif change == "a row twice":
        frame = pd.concat([frame, frame.iloc[[7]]])
    else:
        seed = 43
    after = fingerprint(profile_chunks([frame], settings(frame, seed)))
    assert after["fingerprint"] != before["fingerprint"]


def test_the_history_has_a_value_per_round_and_none_before_a_resume() -> None:
    history = TrainingHistory()
    history.start(first_round=2).update({"train": {"auc": [0.7, 0.8]}, "validation": {"logloss": [0.5, 0.4]}})
    assert history.per_round() == {
        "train-auc": [None, None, 0.7, 0.8],
        "validation-logloss": [None, None, 0.5, 0.4],
    }
    assert curve(history.per_round()) == [
        Metric("train-auc", 0.7, 2), Metric("train-auc", 0.8, 3),
        Metric("validation-logloss", 0.5, 2), Metric("validation-logloss", 0.4, 3),
    ]  # fmt: skip


def test_a_history_that_is_not_lists_per_round_is_refused() -> None:
    with pytest.raises(DataValidationError, match=contract.TRAINING_HISTORY_FILE):
        curve({"train-auc": 0.7})


def test_every_finite_number_of_the_report_is_a_metric_under_its_path() -> None:
    report = {
        "binary_classification_metrics": {
            "auc": {"value": 0.8, "standard_deviation": "NaN"},
            "confusion_matrix": {"0": {"0": 5, "1": 1}},
            "receiver_operating_characteristic_curve": {"false_positive_rates": [0.0, 1.0]},
        },
        contract.GATE_SECTION: {"metric": "auc", "value": 0.8, "champion_floor": -math.inf, "passed": True},
    }
    assert dict(flat_numbers(report)) == {
        "binary_classification_metrics.auc.value": 0.8,
        "binary_classification_metrics.confusion_matrix.0.0": 5.0,
        "binary_classification_metrics.confusion_matrix.0.1": 1.0,
        "quality_gate.value": 0.8,
    }
