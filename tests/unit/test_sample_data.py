"""The churn generator: deterministic, realistic (missing values, imbalance, signal), drift knob."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import xgboost as xgb
from sklearn.metrics import roc_auc_score

from ml_code.features import FeatureTransformer
from ml_code.sample_data import TARGET, generate, main


def test_same_seed_same_frame_and_other_seed_differs() -> None:
    pd.testing.assert_frame_equal(generate(200, seed=7), generate(200, seed=7))
    assert not generate(200, seed=7).equals(generate(200, seed=8))


def test_frame_has_numeric_categorical_and_missing_values() -> None:
    frame = generate(2000, seed=0)
    assert TARGET in frame.columns
    numeric = frame.select_dtypes("number").columns.drop(TARGET)
    categorical = frame.select_dtypes(exclude="number").columns
    assert len(numeric) >= 4
    assert len(categorical) >= 3
    assert frame.isna().any().sum() >= 3  # several columns with gaps
    assert set(frame[TARGET].unique()) == {0, 1}


def test_churn_is_imbalanced_around_twenty_percent() -> None:
    assert 0.17 <= generate(4000, seed=3)[TARGET].mean() <= 0.23


def test_signal_is_learnable() -> None:
    # GIVEN a small train/test split of the data
    train, test = generate(1500, seed=11), generate(600, seed=12)
    transformer = FeatureTransformer.fit(train, TARGET, "binary")
    # WHEN a quick booster learns it
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 3, "eta": 0.2, "seed": 0},
        xgb.DMatrix(transformer.transform_frame(train), transformer.encode_target(train[TARGET])),
        num_boost_round=40,
    )
    # THEN it ranks churners well above chance (the generator is meant for AUC ~0.8-0.9)
    scores = booster.predict(xgb.DMatrix(transformer.transform_frame(test)))
    assert roc_auc_score(test[TARGET], scores) > 0.75


def test_drift_shifts_numeric_and_categorical_distributions() -> None:
    base, drifted = generate(3000, seed=5), generate(3000, seed=5, drift=1.0)
    assert drifted["monthly_charges"].mean() > base["monthly_charges"].mean() + 10
    assert drifted["tenure_months"].mean() < base["tenure_months"].mean()
    share = lambda f: (f["contract"] == "Month-to-month").mean()  # noqa: E731
    assert share(drifted) > share(base) + 0.15
    assert list(drifted.columns) == list(base.columns)


def test_rows_must_be_positive() -> None:
    with pytest.raises(ValueError, match="rows must be at least 1, got 0"):
        generate(0, seed=1)


def test_cli_writes_the_csv(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "churn.csv"
    assert main(["--rows", "50", "--seed", "4", "--drift", "0.5", "--out", str(out)]) == 0
    expected = generate(50, seed=4, drift=0.5)
    written = pd.read_csv(out)
    assert list(written.columns) == list(expected.columns)
    assert len(written) == 50
    pd.testing.assert_series_equal(written["monthly_charges"], expected["monthly_charges"])
    pd.testing.assert_series_equal(written["contract"], expected["contract"])


def test_cli_rejects_non_positive_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--rows", "0", "--out", str(tmp_path / "x.csv")])
    assert "--rows must be at least 1" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
