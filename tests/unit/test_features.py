"""The JSON feature transformer: fitting, both transform paths, errors, labels, persistence."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from ml_code.errors import DataValidationError, PayloadError
from ml_code.features import FeatureTransformer, normalize_category
from ml_code.sample_data import generate


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "age": [30.0, None, 50.0, 40.0],
        "plan": ["gold", "silver", None, "gold"],
        "visits": [1, 2, 3, 4],
        "y": [0, 1, 0, 1],
    })  # fmt: skip


@pytest.fixture
def fitted(frame: pd.DataFrame) -> FeatureTransformer:
    return FeatureTransformer.fit(frame, "y", "binary")


def test_fit_records_features_outputs_and_labels(fitted: FeatureTransformer) -> None:
    assert fitted.feature_names == ["age", "plan", "visits"]
    assert fitted.output_names == [
        "age", "age__missing",
        "plan=gold", "plan=silver", "plan=__other__", "plan=__missing__",
        "visits",
    ]  # fmt: skip
    assert fitted.features[0]["median"] == 40.0
    assert fitted.features[2]["missing_indicator"] is False  # no missing values in training
    assert fitted.labels == [0, 1]


def test_transform_rows_imputes_buckets_and_flags_missing(fitted: FeatureTransformer) -> None:
    out = fitted.transform_rows([
        [None, "bronze", 7],        # missing number, unseen category
        ["", "", "8"],              # empty strings are missing; numeric strings parse
        [float("nan"), " gold ", 9.5],  # NaN is missing; categories are stripped
    ])  # fmt: skip
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[0], [40, 1, 0, 0, 1, 0, 7])
    np.testing.assert_array_equal(out[1], [40, 1, 0, 0, 0, 1, 8])
    np.testing.assert_array_equal(out[2], [40, 1, 1, 0, 0, 0, 9.5])


def test_transform_rows_accepts_mappings_by_feature_name(fitted: FeatureTransformer) -> None:
    by_name = fitted.transform_rows([{"visits": 3, "plan": "silver", "age": 20}])
    by_position = fitted.transform_rows([[20, "silver", 3]])
    np.testing.assert_array_equal(by_name, by_position)


def test_both_transform_paths_agree_on_realistic_data() -> None:
    # GIVEN a transformer fit on the churn data, and held-out rows with missing values
    train, held_out = generate(300, seed=1), generate(80, seed=2)
    transformer = FeatureTransformer.fit(train, "churn", "binary")
    raw = held_out.drop(columns=["churn"])
    rows = [[None if pd.isna(v) else v for v in record] for record in raw.itertuples(index=False)]
    # WHEN both paths transform them THEN serving sees exactly what training saw
    np.testing.assert_array_equal(transformer.transform_rows(rows), transformer.transform_frame(held_out))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ([1, "gold"], "row 0 has 2 values; expected 3 in this order: age, plan, visits"),
        ([1, "gold", 2, 3], "row 0 has 4 values; expected 3"),
        (["abc", "gold", 2], "row 0, column 'age': expected a number, got 'abc'"),
        ([1, "gold", "inf"], "row 0, column 'visits': 'inf' is not a finite number"),
        ([1, "gold", "1e300"], "row 0, column 'visits': '1e300' is beyond ±3.4e38, the largest number"),
        ([-1e39, "gold", 2], "row 0, column 'age': -1e+39 is beyond ±3.4e38"),
        ("1,gold,2", "row 0: expected a list of 3 values, got str"),
        ({"age": 1, "plan": "gold"}, "row 0: unknown features [], missing features ['visits']"),
        ({"age": 1, "plan": "x", "visits": 2, "zip": 1}, "unknown features ['zip']"),
        ({"age": 1, "plan": "x", "zip": 2}, "unknown features ['zip'], missing features ['visits']"),
    ],
)
def test_transform_rows_rejects_bad_rows_naming_row_and_column(
    fitted: FeatureTransformer, row: object, message: str
) -> None:
    with pytest.raises(PayloadError, match=re.escape(message)):
        fitted.transform_rows([row])  # type: ignore[list-item]


def test_transform_rows_names_the_offending_row_index(fitted: FeatureTransformer) -> None:
    with pytest.raises(PayloadError, match=r"row 1, column 'visits'"):
        fitted.transform_rows([[1, "gold", 2], [1, "gold", "many"]])


def test_transform_frame_rejects_missing_and_non_numeric_columns(fitted: FeatureTransformer) -> None:
    with pytest.raises(DataValidationError, match=r"feature columns \['visits'\] not found"):
        fitted.transform_frame(pd.DataFrame({"age": [1.0], "plan": ["gold"]}))
    with pytest.raises(DataValidationError, match="numeric column 'age' has a non-numeric value"):
        fitted.transform_frame(pd.DataFrame({"age": ["old"], "plan": ["gold"], "visits": [1]}))


def test_fit_caps_categories_keeping_the_most_frequent() -> None:
    frame = pd.DataFrame({"c": ["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"], "y": [0, 1] * 5 + [0]})
    transformer = FeatureTransformer.fit(frame, "y", "binary", max_categories=2)
    assert transformer.output_names == ["c=a", "c=b", "c=__other__", "c=__missing__"]
    np.testing.assert_array_equal(transformer.transform_rows([["c"]]), [[0, 0, 1, 0]])


def test_fit_rejects_missing_target_and_empty_columns(frame: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match=r"target column 'label' not found; columns: \['age'"):
        FeatureTransformer.fit(frame, "label", "binary")
    with pytest.raises(DataValidationError, match="feature column 'empty' has no values"):
        FeatureTransformer.fit(frame.assign(empty=np.nan), "y", "binary")


def test_string_labels_are_sorted_and_encoded(frame: pd.DataFrame) -> None:
    labelled = frame.assign(y=["yes", "no", "maybe", "no"])
    transformer = FeatureTransformer.fit(labelled, "y", "multiclass")
    assert transformer.labels == ["maybe", "no", "yes"]
    np.testing.assert_array_equal(transformer.encode_target(labelled["y"]), [2, 1, 0, 1])
    assert transformer.decode([0, 2]) == ["maybe", "yes"]
    with pytest.raises(DataValidationError, match=r"labels unseen in training: \['perhaps'\]"):
        transformer.encode_target(pd.Series(["perhaps"]))


def test_integral_float_labels_become_ints_and_fractions_are_rejected(frame: pd.DataFrame) -> None:
    assert FeatureTransformer.fit(frame.assign(y=[0.0, 1.0, 0.0, 1.0]), "y", "binary").labels == [0, 1]
    with pytest.raises(DataValidationError, match="non-integer numeric labels"):
        FeatureTransformer.fit(frame.assign(y=[0.5, 1.0, 0.0, 1.0]), "y", "multiclass")


def test_regression_has_no_labels(frame: pd.DataFrame) -> None:
    transformer = FeatureTransformer.fit(frame.assign(y=[1.5, 2.5, 3.0, 4.0]), "y", "regression")
    assert transformer.labels is None
    np.testing.assert_array_equal(transformer.encode_target(pd.Series([1.5])), [1.5])
    with pytest.raises(ValueError, match="regression transformer has no class labels"):
        transformer.decode([0])


def test_json_round_trip_keeps_behaviour(fitted: FeatureTransformer) -> None:
    restored = FeatureTransformer.from_json(fitted.to_json())
    assert restored == fitted
    assert restored.output_names == fitted.output_names
    rows = [[None, "silver", 2]]
    np.testing.assert_array_equal(restored.transform_rows(rows), fitted.transform_rows(rows))


def test_from_dict_rejects_another_format_version(fitted: FeatureTransformer) -> None:
    with pytest.raises(ValueError, match="format_version 99 is not 1"):
        FeatureTransformer.from_dict({**fitted.to_dict(), "format_version": 99})


def test_unknown_problem_type_is_rejected(frame: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="problem_type must be one of"):
        FeatureTransformer.fit(frame, "y", "ranking")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("  ", None), (math.nan, None), (" a ", "a"), (1, "1"), (1.0, "1"),
     (1.5, "1.5"), (True, "True"), (np.int64(3), "3")],
)  # fmt: skip
def test_normalize_category(value: object, expected: str | None) -> None:
    assert normalize_category(value) == expected
