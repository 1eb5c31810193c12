"""The MLflow UI check's pure parts: numbers as the UI prints them, URLs, the shared view, the
column choice, and reading runs and metrics off a rendered page (benchmarks/mlflow_ui_page.py).

The DOM fragments below are cut down from pages MLflow 3.17.2's UI rendered in headless Chromium
(the same element roles and ag-grid attributes, fewer classes)."""

from __future__ import annotations

import json

import pytest

from benchmarks.mlflow_ui_page import (
    RunTruth,
    check_run_page,
    check_runs_table,
    choose_metrics,
    grid_cells,
    js_number,
    page_texts,
    run_url,
    runs_url,
    shared_view_state,
    table_rows,
)

AUC = "binary_classification_metrics.auc.value"
PASSED = RunTruth("r1", "c27b84f03d91", {AUC: 0.8611, "validation-auc": 0.864832})
REJECTED = RunTruth("r2", "a90d2e6c15f8", {AUC: 0.7917})


def _cell(column: str, text: str) -> str:
    return (
        f'<div class="ag-cell" role="gridcell" col-id="{column}"><div role="presentation">'
        f'<span class="ag-cell-value">{text}</span></div></div>'
    )


def _name_cell(name: str) -> str:  # the run's colour swatch comes first, as in the UI
    swatch = '<label><span>#137dae</span><input type="color" value="#137dae"></label>'
    return _cell("attributes.`Run Name`", f'{swatch}<a href="#/x"><span>{name}</span></a>')


def _grid(*runs: tuple[str, str, str, str]) -> str:
    """A runs table: per run (id, name, auc text, curve text), a pinned half and a scrolling half."""
    pinned = "".join(f'<div role="row" row-id="{i}">{_name_cell(n)}</div>' for i, n, _, _ in runs)
    scrolling = "".join(
        f'<div role="row" row-id="{i}">{_cell(f"metrics.`{AUC}`", a)}'
        f"{_cell('metrics.`validation-auc`', c)}</div>"
        for i, _, a, c in runs
    )
    header = '<div role="row"><div role="columnheader">Run Name</div></div>'
    grid = f'<div role="grid">{header}{pinned}{scrolling}</div>'
    return f"<html><head><style>.x{{}}</style></head><body>{grid}</body></html>"


TABLE = _grid(("r1", "c27b84f03d91", "0.8611", "0.864832"), ("r2", "a90d2e6c15f8", "0.7917", "-"))


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (0.8611, "0.8611"), (42.0, "42"), (-0.5, "-0.5"), (0.0, "0"), (1 / 3, "0.3333333333333333"),
        (2.5e-5, "0.000025"), (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (1234567.891, "1234567.891"),
        (1e21, "1e+21"), (1.5e22, "1.5e+22"), (1e20, "100000000000000000000"), (float("nan"), "NaN"),
        (float("-inf"), "-Infinity"),
    ],
)  # fmt: skip
def test_js_number_prints_as_javascript_string(value: float, printed: str) -> None:
    # (the first ten were read off the UI's runs table and run page: MLflow prints String(value))
    assert js_number(value) == printed


def test_urls_route_inside_the_hash() -> None:
    assert (
        runs_url("http://127.0.0.1:5000/", "7", "k")
        == "http://127.0.0.1:5000/#/experiments/7/runs?viewStateShareKey=k"
    )
    assert run_url("http://h:1", "7", "abc") == "http://h:1/#/experiments/7/runs/abc"


def test_shared_view_selects_the_metric_and_tag_columns_and_shows_every_run() -> None:
    state = json.loads(shared_view_state([AUC, "f1"], ["mlops.gate"]))
    assert state == {
        "selectedColumns": [f"metrics.`{AUC}`", "metrics.`f1`", "tags.`mlops.gate`"],
        "runsHiddenMode": "SHOW_ALL",
    }


def test_choose_metrics_prefers_report_metrics_and_covers_every_run() -> None:
    # GIVEN report metrics with their deviations, training curves, and a run with an odd metric
    keys = {AUC: 0.9, "binary_classification_metrics.accuracy.value": 0.8, "train-auc": 0.95,
            "binary_classification_metrics.auc.standard_deviation": 0.01,
            "binary_classification_metrics.recall.value": 0.7, "zeta": 1.0}  # fmt: skip
    odd = RunTruth("r3", "odd", {"loss": 0.1})
    # WHEN two columns are chosen
    chosen = choose_metrics([RunTruth("r1", "a", keys), odd], count=2)
    # THEN auc and accuracy first (not the curve, not auc's deviation), then the odd run's metric
    assert chosen == [AUC, "binary_classification_metrics.accuracy.value", "loss"]
    assert choose_metrics([RunTruth("r", "n", {})]) == []


def test_grid_cells_merges_a_rows_halves_by_run_id() -> None:
    grid = grid_cells(TABLE)
    assert set(grid) == {"r1", "r2"}
    assert grid["r1"]["attributes.`Run Name`"] == ["#137dae", "c27b84f03d91"]
    assert grid["r2"][f"metrics.`{AUC}`"] == ["0.7917"]


def test_runs_table_check_passes_when_every_run_and_value_is_shown() -> None:
    assert check_runs_table(TABLE, [PASSED, REJECTED], [AUC, "validation-auc"]) == []


def test_runs_table_check_names_a_missing_run_a_wrong_name_and_a_wrong_value() -> None:
    # GIVEN a table where r1 shows another name and a rounded auc, and r2 has no row
    dom = _grid(("r1", "someone-else", "0.861", "0.864832"))
    # WHEN checked
    problems = check_runs_table(dom, [PASSED, REJECTED], [AUC, "validation-auc"])
    # THEN each is named
    assert problems == [
        "run 'c27b84f03d91' (r1): its Run Name cell shows '#137dae someone-else'",
        f"run 'c27b84f03d91' (r1): metric {AUC} shows '0.861', MlflowClient reads 0.8611",
        "run 'a90d2e6c15f8' (r2): no row in the runs table (1 rows shown)",
    ]


def test_runs_table_check_fails_on_a_page_still_loading() -> None:
    spinner = (
        '<html><body><div class="spinner"><script>var r = "c27b84f03d91 0.8611";</script></div></body></html>'
    )
    assert len(check_runs_table(spinner, [PASSED], [AUC])) == 1
    assert "c27b84f03d91" not in page_texts(spinner)  # script text is not page text


def test_runs_table_check_fails_for_a_run_without_the_checked_metrics() -> None:
    problems = check_runs_table(TABLE, [RunTruth("r2", "a90d2e6c15f8", {"loss": 1.0})], [AUC])
    assert problems == [f"run 'a90d2e6c15f8' (r2): logged none of the metrics ['{AUC}']"]


def _run_page(name: str, metrics: dict[str, str]) -> str:
    rows = "".join(
        f'<div role="row"><div role="cell"><span><a href="#/m">{key}</a></span></div>'
        f'<div role="cell"><span title="{value}">{value}</span></div></div>'
        for key, value in metrics.items()
    )
    header = '<div role="row"><div role="columnheader">Metric</div><div role="columnheader">Value</div></div>'
    title = f"<h2><span>{name}</span></h2><input type=text><br>"  # void elements have no end tag
    return f"<html><body>{title}<div>{header}{rows}</div></body></html>"


def test_run_page_check_reads_the_metrics_table() -> None:
    dom = _run_page(PASSED.name, {AUC: "0.8611", "validation-auc": "0.864832"})
    assert [[" ".join(texts) for _, texts in row.cells] for row in table_rows(dom)][1:] == [
        [AUC, "0.8611"], ["validation-auc", "0.864832"],
    ]  # fmt: skip
    assert check_run_page(dom, PASSED) == []


def test_run_page_check_names_a_missing_name_and_metric() -> None:
    dom = _run_page("another-run", {AUC: "0.8611"})
    assert check_run_page(dom, PASSED) == [
        "run 'c27b84f03d91' (r1) page: the run's name is not on it",
        "run 'c27b84f03d91' (r1) page: metric validation-auc shows 'nothing', MlflowClient reads 0.864832",
    ]
