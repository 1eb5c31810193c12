"""Column roles: each rule of ml_code.column_roles, its reason, and the overrides."""

from __future__ import annotations

import pandas as pd
import pytest

from ml_code.column_roles import (
    ColumnFacts,
    checked_overrides,
    decide,
    decide_all,
    named_like_id,
    parse_overrides,
)
from ml_code.errors import DataValidationError
from ml_code.messy_data import messy
from ml_code.steps.feature_report import column_roles
from ml_code.steps.profile import Settings, profile_chunks


def facts(name: str = "c", **kw: object) -> ColumnFacts:
    base: dict[str, object] = {
        "rows": 100, "present": 100, "numeric": False, "integral": False, "boolean": False,
        "distinct": 5, "top": "a", "sample": ["a", "b"] * 50,
    }  # fmt: skip
    return ColumnFacts(name=name, **{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("id", True), ("ID", True), ("customer id", True), ("customer_id", True), ("customerId", True),
     ("customerID", True), ("uuid", True), ("key", True), ("order-key", True), ("paid", False),
     ("valid", False), ("idle", False), ("identity", False), ("monkey", False)],
)  # fmt: skip
def test_named_like_id(name: str, expected: bool) -> None:
    assert named_like_id(name) is expected


def test_empty_and_constant_columns_are_left_out() -> None:
    assert decide(facts(present=0, distinct=0)).reason == "no values"
    constant = decide(facts(distinct=1, top="x"))
    assert (constant.role, constant.reason) == ("constant", "one value ('x') in every row")
    # one value and some missing: the missing ones carry something, so it stays a category
    assert decide(facts(distinct=1, present=90)).role == "categorical"


def test_nearly_all_ties_make_an_identifier_not_a_category() -> None:
    # GIVEN 1,000 values, 990 of them distinct (ties at one row each)
    role = decide(facts("ref", rows=1000, present=1000, distinct=990, sample=[f"r{i}" for i in range(990)]))
    # THEN it is a key, and the reason says the share
    assert (role.role, role.reason) == ("identifier", "990 distinct values in 1,000 rows (99%)")
    assert decide(facts("ref", rows=1000, present=1000, distinct=900)).role == "categorical"


def test_too_few_rows_for_the_distinct_share_rule() -> None:
    assert decide(facts("ref", rows=10, present=10, distinct=10)).role == "categorical"


def test_numbers_are_keys_only_when_named_like_one() -> None:
    whole = {"numeric": True, "integral": True, "distinct": 100}
    assert decide(facts("customer_id", **whole)).reason == "named like one ('customer_id')"
    assert decide(facts("income", **whole)).role == "numeric"  # all distinct, but a measurement
    # a float column with repeated values is numeric whatever its name
    assert decide(facts("score_id", numeric=True, distinct=30)).role == "numeric"


def test_dates_need_95_percent_of_values_to_parse() -> None:
    dates = [f"2024-01-{d:02d}" for d in range(1, 29)] * 3 + ["2024/02/01"] * 16
    role = decide(facts("signup date", distinct=29, sample=dates))
    assert (role.role, role.reason) == ("date", "100% of values parse as ISO dates (YYYY-MM-DD)")
    assert decide(facts("d", sample=dates[:90] + ["soon"] * 10)).role == "categorical"  # 90 %
    assert decide(facts("d", sample=["03/04/2024"] * 100)).role == "categorical"  # locale-ambiguous


def test_free_text_is_reported_and_left_out() -> None:
    notes = [f"customer {i} called about the bill twice" for i in range(100)]
    role = decide(facts("notes", distinct=100, sample=notes))
    assert role.role == "text"
    assert role.reason == "free text (mean 39 characters, 7 words)"
    assert not role.model_input


def test_booleans_are_categorical() -> None:
    assert decide(facts(boolean=True, distinct=2)).role == "categorical"


def test_overrides_win_but_not_over_an_empty_column() -> None:
    assert decide(facts("customer id"), "categorical").reason == "set in pipeline.columns"
    assert decide(facts(), "drop").role == "dropped"
    assert decide(facts(present=0, distinct=0), "numeric").role == "empty"
    with pytest.raises(ValueError, match=r"names columns the data has not: \['nope'\]"):
        decide_all([facts("a")], {"nope": "text"})


def test_override_arguments_are_checked() -> None:
    assert parse_overrides(["a=b=date", "x=drop"]) == {"a=b": "date", "x": "drop"}
    with pytest.raises(ValueError, match="the role must be one of"):
        parse_overrides(["x=weird"])
    with pytest.raises(ValueError, match="expected NAME=ROLE"):
        parse_overrides(["x"])
    with pytest.raises(DataValidationError, match=r"names \['y'\]: not feature columns"):
        checked_overrides(["y=text"], ["x", "y"], "y")


def test_the_messy_sample_gets_the_roles_the_issue_asks_for() -> None:
    # GIVEN the churn sample with a customer id, a signup date, a constant column and gaps
    frame = messy(600, 3).astype(str).replace("None", None)
    settings = Settings(tuple(frame.columns), "churn", "binary")
    # WHEN the profile's columns get their roles
    roles = {r.name: r for r in column_roles(profile_chunks([frame], settings))}
    # THEN the id is a key, the date a date, the constant left out, the rest as before
    assert roles["customer id"].role == "identifier"
    assert roles["signup date"].role == "date"
    assert roles["source"].role == "constant"
    assert roles["contract"].role == "categorical"
    assert roles["monthly charges"].role == "numeric"


def test_an_unnamed_unique_text_column_is_an_identifier_from_the_profile() -> None:
    frame = pd.DataFrame({"ref": [f"R{i:05d}" for i in range(200)], "x": [str(i % 7) for i in range(200)],
                          "y": ["0", "1"] * 100})  # fmt: skip
    roles = column_roles(profile_chunks([frame], Settings(("ref", "x", "y"), "y", "binary")))
    assert roles[0].role == "identifier"
    assert roles[0].reason.endswith("(100%)")


def test_no_model_input_left_is_an_error() -> None:
    frame = pd.DataFrame({"id": [str(i) for i in range(50)], "y": ["0", "1"] * 25})
    with pytest.raises(DataValidationError, match=r"no column is left as a model input \(id: identifier\)"):
        column_roles(profile_chunks([frame], Settings(("id", "y"), "y", "binary")))


def test_the_config_key_takes_the_roles_the_steps_take() -> None:
    from contracts.config.platform import COLUMN_ROLES  # noqa: PLC0415 - the one test of the pair
    from ml_code.column_roles import OVERRIDES  # noqa: PLC0415

    assert COLUMN_ROLES == OVERRIDES
