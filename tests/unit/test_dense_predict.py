"""The serving predictor: bit for bit what xgboost's inplace_predict (and so the offline path's
DMatrix predict) gives, for every problem type, in any thread, with its own fallbacks."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from serving_models import build_model, raw_rows

from ml_code import contract
from ml_code.serving import inference
from ml_code.serving.dense_predict import DensePredictor
from ml_code.steps.evaluate import load_model
from ml_code.steps.evaluate import predict as offline_predict


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {p: build_model(tmp_path_factory.mktemp(p), p) for p in contract.PROBLEM_TYPES}


def matrix(model: inference.Model, rows: int, seed: int) -> np.ndarray:
    """Random rows of the model's width, some cells missing (NaN)."""
    rng = np.random.default_rng(seed)
    out = rng.normal(50, 40, size=(rows, model.booster.num_features())).astype(np.float32)
    out[rng.random(out.shape) < 0.1] = np.nan
    return out


@pytest.mark.parametrize("problem", contract.PROBLEM_TYPES)
@pytest.mark.parametrize("rows", [1, 3, 257])
def test_answers_what_inplace_predict_answers(models: dict[str, Path], problem: str, rows: int) -> None:
    model = inference.model_fn(str(models[problem]))
    x = matrix(model, rows, seed=rows)
    ours = model.predict(x)
    theirs = np.asarray(model.booster.inplace_predict(x), dtype=np.float32)
    assert ours.dtype == np.float32
    assert ours.shape == theirs.shape == ((rows, 3) if problem == "multiclass" else (rows,))
    assert ours.tobytes() == theirs.tobytes()  # bit for bit, not approximately


def test_is_safe_to_call_from_several_threads(models: dict[str, Path]) -> None:
    model = inference.model_fn(str(models["multiclass"]))
    batches = [matrix(model, 50 + i, seed=i) for i in range(16)]
    expected = [np.asarray(model.booster.inplace_predict(b), dtype=np.float32) for b in batches]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(model.predict, batches * 4))
    for i, answer in enumerate(answers):
        assert answer.tobytes() == expected[i % len(batches)].tobytes()


def test_other_inputs_go_through_inplace_predict(models: dict[str, Path]) -> None:
    booster = inference.model_fn(str(models["binary"])).booster
    predictor = DensePredictor(booster)
    x = matrix(inference.model_fn(str(models["binary"])), 5, seed=1)
    as_float64 = x.astype(np.float64)
    strided = np.repeat(x, 2, axis=0)[::2]
    assert not strided.flags.c_contiguous
    for other in (as_float64, strided):
        assert predictor(other).tobytes() == np.asarray(booster.inplace_predict(other), np.float32).tobytes()
    with pytest.raises(ValueError, match="Feature shape mismatch"):
        predictor(x[:, :-1])  # xgboost's own error, from inplace_predict


def test_without_xgboosts_internals_it_still_predicts(
    models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(xgb.core, "_ProxyDMatrix")
    model = inference.model_fn(str(models["regression"]))
    x = matrix(model, 4, seed=2)
    assert model.predict(x).tobytes() == np.asarray(model.booster.inplace_predict(x), np.float32).tobytes()


@pytest.mark.parametrize("problem", contract.PROBLEM_TYPES)
@pytest.mark.parametrize("rows", [1, 300])
def test_served_predictions_are_the_offline_paths(models: dict[str, Path], problem: str, rows: int) -> None:
    # GIVEN raw rows, served as a CSV body (the column-wise reader and encoder for 300 rows)
    frame = raw_rows(problem, rows)
    reply = inference.respond(
        inference.model_fn(str(models[problem])),
        frame.to_csv(index=False, header=False),
        "text/csv",
        "application/json",
    )
    served = json.loads(reply.body)["predictions"]
    # WHEN the evaluation step's path predicts the same rows (pandas transform, DMatrix predict)
    booster, transformer = load_model(models[problem])
    offline = offline_predict(booster, transformer.transform_frame(pd.DataFrame(frame)))
    # THEN the served numbers are the offline ones, rounded to 7 decimals (float32 precision)
    assert reply.status == 200
    if problem == "binary":
        assert [p["probability"] for p in served] == np.round(offline, 7).tolist()
    elif problem == "multiclass":
        assert [list(p["probabilities"].values()) for p in served] == np.round(offline, 7).tolist()
    else:
        assert [p["score"] for p in served] == [
            float(f"{v:.7g}") for v in offline.astype(np.float32).tolist()
        ]
