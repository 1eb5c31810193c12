"""The feature report Preprocess writes (baseline/features.json, features.md) and what follows the roles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml_code import contract
from ml_code.messy_data import messy
from ml_code.steps.preprocess import PreprocessResult, preprocess, write_outputs
from ml_code.steps.preprocess_outputs import FEATURE_REPORT_FILE, FEATURE_TABLE_FILE


@pytest.fixture(scope="module")
def result() -> PreprocessResult:
    return preprocess(messy(800, 5), "churn", "binary")


def test_the_report_says_per_column_its_role_reason_outputs_and_missing_share(
    result: PreprocessResult,
) -> None:
    columns = {c["name"]: c for c in result.report["columns"]}
    assert list(columns) == [c for c in messy(5, 5).columns if c != "churn"]  # the header's order
    assert columns["customer id"] == {
        "name": "customer id", "role": "identifier", "reason": "named like one ('customer id')",
        "model_input": False, "outputs": [], "missing_share": 0.0,
    }  # fmt: skip
    date = columns["signup date"]
    assert date["role"] == "date"
    assert date["outputs"] == [f"signup date__{p}" for p in ("year", "month", "dayofweek", "days", "missing")]
    assert 0.05 < date["missing_share"] < 0.15  # 10 % blanked
    assert columns["source"]["reason"] == "one value ('crm-export') in every row"
    assert columns["monthly charges"]["outputs"] == ["monthly charges", "monthly charges__missing"]


def test_the_baseline_and_the_smoke_samples_follow_the_roles(result: PreprocessResult) -> None:
    stats = {f["name"]: f for f in result.statistics["features"]}
    assert list(stats) == result.transformer.feature_names  # the model inputs, in the request's order
    assert "customer id" not in stats
    assert stats["signup date"]["date_reference"] == result.transformer.features[0]["reference"]
    assert stats["signup date"]["numerical_statistics"]["min"] == 0.0  # days since the earliest date
    assert set(result.smoke[0]) == set(result.transformer.feature_names)
    assert result.transformer.labels == ["no", "yes"]


def test_the_report_is_written_beside_the_baseline(result: PreprocessResult, tmp_path: Path) -> None:
    dirs = {name: tmp_path / name for name in contract.PREPROCESS_OUTPUTS}
    write_outputs(result, dirs)
    assert json.loads((dirs["baseline"] / FEATURE_REPORT_FILE).read_text()) == result.report
    table = (dirs["baseline"] / FEATURE_TABLE_FILE).read_text().splitlines()
    assert table[0] == "| column | role | outputs | missing | why |"
    assert "| customer id | identifier | - | 0% | named like one ('customer id') |" in table


def test_pipeline_columns_overrides_roles() -> None:
    # GIVEN the id declared categorical and the date dropped, as --column NAME=ROLE would
    frame = messy(300, 2)
    result = preprocess(frame, "churn", "binary", columns=["signup date=drop", "region=text"])
    roles = {c["name"]: (c["role"], c["reason"]) for c in result.report["columns"]}
    assert roles["signup date"] == ("dropped", "set in pipeline.columns")
    assert roles["region"] == ("text", "set in pipeline.columns")
    assert result.transformer.excluded == {"customer id": "identifier", "signup date": "dropped",
                                           "source": "constant", "region": "text"}  # fmt: skip
