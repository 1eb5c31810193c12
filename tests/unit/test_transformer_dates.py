"""Date features in the transformer (format version 2), the paths that serve them, and version 1."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ml_code.drift.compare import days_since
from ml_code.errors import PayloadError
from ml_code.features import FeatureTransformer
from ml_code.serving.batch_features import BatchTransformer

ROLES = {"signup": "date", "customer id": "identifier"}


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "customer id": ["a", "b", "c", "d", "e"],
        "signup": ["2024-01-01", "2024-01-03T10:00:00Z", None, "2024/01/08", "2024-01-10"],
        "x": [1.0, 2.0, 3.0, 4.0, 5.0],
        "y": [0, 1, 0, 1, 0],
    })  # fmt: skip


@pytest.fixture
def fitted(frame: pd.DataFrame) -> FeatureTransformer:
    return FeatureTransformer.fit(frame, "y", "binary", roles=ROLES)


def test_a_date_becomes_its_parts_and_days_since_the_earliest(fitted: FeatureTransformer) -> None:
    assert fitted.feature_names == ["signup", "x"]  # the identifier is not an input
    assert fitted.output_names[:5] == [
        "signup__year", "signup__month", "signup__dayofweek", "signup__days", "signup__missing",
    ]  # fmt: skip
    spec = fitted.features[0]
    assert (spec["kind"], spec["reference"], spec["median"]) == ("date", "2024-01-01", 4.5)
    matrix = fitted.transform_rows([["2024-01-08", 1], ["2023-12-31", 2]])
    # 2024-01-08 is a Monday (0), 7 days after the reference; earlier days count negative
    assert matrix[0, :5].tolist() == [2024, 1, 0, 7, 0]
    assert matrix[1, :5].tolist() == [2023, 12, 6, -1, 0]


@pytest.mark.parametrize("value", [None, "", "soon", "2024-02-30", "03/04/2024", 20240101])
def test_missing_or_not_a_date_gets_the_median_day_and_the_indicator(
    fitted: FeatureTransformer, value: object
) -> None:
    # the median is 4.5 days, rounded to 4: 2024-01-05, a Friday (4)
    assert fitted.transform_rows([[value, 1]])[0, :5].tolist() == [2024, 1, 4, 4, 1]  # type: ignore[list-item]


def test_frame_rows_and_batches_agree(fitted: FeatureTransformer, frame: pd.DataFrame) -> None:
    raw = frame.astype(object).where(frame.notna(), None)
    rows = raw[fitted.feature_names].values.tolist() * 8  # 40 rows: the column-wise path
    by_rows = fitted.transform_rows(rows)
    assert np.array_equal(fitted.transform_frame(pd.concat([frame] * 8)), by_rows)
    batch = BatchTransformer(fitted)
    assert np.array_equal(batch.transform_rows(rows), by_rows)
    body = "".join(f"{d or ''},{x}\n" for d, x in rows) * 10
    assert batch.transform_csv(body) is None  # dates take the reference path


def test_version_2_round_trips_and_says_what_was_left_out(fitted: FeatureTransformer) -> None:
    data = json.loads(fitted.to_json())
    assert (data["format_version"], data["excluded"]) == (2, {"customer id": "identifier"})
    assert FeatureTransformer.from_json(fitted.to_json()) == fitted


def test_a_request_with_an_excluded_column_is_rejected_naming_its_role(fitted: FeatureTransformer) -> None:
    with pytest.raises(
        PayloadError, match=r"'customer id' is an identifier: not a model input, leave it out"
    ):
        fitted.transform_rows([{"customer id": "a", "signup": "2024-01-01", "x": 1}])
    with pytest.raises(PayloadError, match=r"row 0 has 3 values; expected 2 in this order: signup, x"):
        fitted.transform_rows([["a", "2024-01-01", 1]])


def test_a_version_1_transformer_still_loads_and_transforms_as_before() -> None:
    # GIVEN transformer.json as models registered before version 2 carry it
    v1 = {
        "format_version": 1, "target": "y", "problem_type": "binary", "labels": [0, 1],
        "features": [
            {"name": "x", "kind": "numeric", "dtype": "float64", "median": 2.0, "missing_indicator": True},
            {"name": "c", "kind": "categorical", "dtype": "object", "categories": ["a", "b"]},
        ],
        "output_names": ["x", "x__missing", "c=a", "c=b", "c=__other__", "c=__missing__"],
    }  # fmt: skip
    # WHEN it is loaded and serves rows
    transformer = FeatureTransformer.from_json(json.dumps(v1))
    matrix = transformer.transform_rows([[None, "b"], [3.5, "z"]])
    # THEN the same outputs as ever
    assert transformer.output_names == v1["output_names"]
    assert matrix.tolist() == [[2.0, 1.0, 0.0, 1.0, 0.0, 0.0], [3.5, 0.0, 0.0, 0.0, 1.0, 0.0]]
    assert transformer.excluded == {}


def test_the_drift_check_counts_days_from_the_baselines_reference() -> None:
    days = days_since(pd.Series(["2024-01-11", None, "nope", "2023/12/31"]), "2024-01-01")
    assert days.tolist()[0] == 10.0
    assert days.tolist()[3] == -1.0
    assert days.isna().tolist() == [False, True, True, False]
