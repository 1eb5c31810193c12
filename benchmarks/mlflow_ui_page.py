"""What the MLflow UI check expects on a page, and what it reads off one (pure: no browser, no server).

The UI is MLflow 3's single-page app; Chromium's ``--dump-dom`` gives its rendered HTML. Two pages:

- an experiment's runs table (``#/experiments/<id>/runs``), an ag-grid: each row is
  ``role="row" row-id="<run id>"`` (the pinned and the scrolling halves of a row are two elements
  with the same ``row-id``), each cell ``role="gridcell" col-id="<column key>"``, column keys as
  MLflow writes them: ``attributes.`Run Name```, ``metrics.`auc```, ``tags.`mlops.gate```;
- a run's overview (``#/experiments/<id>/runs/<run id>``): a ``role="row"``/``role="cell"`` table
  of metric name and value.

The runs table shows only the columns a view selects (by default none of the metrics), so the check
opens it with a *shared view*: the view state is an experiment tag ``mlflow.sharedViewState.<key>``
(JSON) and the URL names the key (``?viewStateShareKey=<key>``), as MLflow's own "Share" button does.

Both pages print a metric value as JavaScript's ``String(number)`` does (:func:`js_number`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from typing import Final

#: The experiment tag prefix MLflow's UI reads a shared view from, and this check's key.
SHARED_VIEW_TAG_PREFIX: Final = "mlflow.sharedViewState."
SHARE_KEY: Final = "mlops-ui-check"
RUN_NAME_COLUMN: Final = "attributes.`Run Name`"
#: Metric names preferred for the table's columns, in this order (matched as a dotted-path part).
PREFERRED_METRICS: Final = ("auc", "accuracy", "f1", "rmse", "mse", "r2")
#: The training curve's metrics (``<data>-<metric>`` per round, ml_code.tracking.evidence).
CURVE_PREFIXES: Final = ("train-", "validation-")
#: The table draws only the columns that fit its width (beside MLflow's assistant panel, at 1600
#: pixels: three metrics and the gate tag), so it is given only a few.
METRIC_COLUMNS: Final = 3
_VOID: Final = frozenset(
    ("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
     "track", "wbr")
)  # fmt: skip


@dataclass(frozen=True)
class RunTruth:
    """A run as MlflowClient reads it: what the UI must show."""

    run_id: str
    name: str
    #: latest value of each metric
    metrics: dict[str, float]
    tags: dict[str, str] = field(default_factory=dict)


def js_number(value: float) -> str:
    """``value`` as JavaScript's ``String(value)`` prints it (ECMAScript Number::toString):
    the shortest round-trip digits, plain notation for 1e-7 < |value| < 1e21, else ``1.5e+21``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    if value < 0:
        return "-" + js_number(-value)
    digits_tuple, exponent = Decimal(repr(value)).as_tuple()[1:]
    digits = "".join(map(str, digits_tuple)).rstrip("0")
    assert isinstance(exponent, int)  # finite
    point = len(digits_tuple) + exponent  # value = 0.<digits> * 10**point
    if len(digits) <= point <= 21:
        return digits + "0" * (point - len(digits))
    if 0 < point <= 21:
        return f"{digits[:point]}.{digits[point:]}"
    if -6 < point <= 0:
        return f"0.{'0' * -point}{digits}"
    power = point - 1
    mantissa = digits if len(digits) == 1 else f"{digits[0]}.{digits[1:]}"
    return f"{mantissa}e{'+' if power > 0 else '-'}{abs(power)}"


def column_key(kind: str, name: str) -> str:
    """The runs table's key for a column: ``metrics.`auc```."""
    return f"{kind}.`{name}`"


def runs_url(base: str, experiment_id: str, share_key: str = SHARE_KEY) -> str:
    """The experiment's runs table, in the shared view ``share_key``."""
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs?viewStateShareKey={share_key}"


def run_url(base: str, experiment_id: str, run_id: str) -> str:
    """A run's overview page (metrics, parameters, tags)."""
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def shared_view_state(metric_keys: Sequence[str], tag_keys: Sequence[str] = ()) -> str:
    """The shared view's JSON: these metric and tag columns, every run shown."""
    columns = [column_key("metrics", key) for key in metric_keys]
    columns += [column_key("tags", key) for key in tag_keys]
    return json.dumps({"selectedColumns": columns, "runsHiddenMode": "SHOW_ALL"})


def _rank(key: str) -> tuple[bool, int, str]:
    """Report metrics before training curves (``train-auc``), then by the metric's own name
    (``auc`` in ``binary_classification_metrics.auc.value``, not ``...auc.standard_deviation``)
    in PREFERRED_METRICS order, then by key."""
    curve = key.startswith(CURVE_PREFIXES)
    parts = key.lower().split(".")
    name = parts[-2] if parts[-1] == "value" and len(parts) > 1 else parts[-1]
    preferred = PREFERRED_METRICS.index(name) if name in PREFERRED_METRICS else len(PREFERRED_METRICS)
    return (curve, preferred, key)


def choose_metrics(runs: Iterable[RunTruth], count: int = METRIC_COLUMNS) -> list[str]:
    """The metric columns to show and check: the ``count`` best-ranked keys (report metrics before
    training curves, PREFERRED_METRICS first, then by name), plus each run's best key where none of
    those is among its metrics, so that every run has at least one value to check. Empty when no
    run logged a metric."""
    runs = list(runs)
    ranked = sorted({key for run in runs for key in run.metrics}, key=_rank)
    chosen = ranked[:count]
    for run in runs:
        if run.metrics and not set(chosen) & set(run.metrics):
            chosen.append(min(run.metrics, key=_rank))
    return chosen


@dataclass
class Row:
    """One ARIA table row of the page: its ``row-id`` (ag-grid's, else None) and its cells,
    each ``(col-id or None, the cell's text nodes)``."""

    row_id: str | None
    cells: list[tuple[str | None, list[str]]] = field(default_factory=list)


class _RowParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[Row] = []
        self.texts: list[str] = []
        #: open elements: (tag, what it opened: "row", "cell", "skip" or "")
        self._stack: list[tuple[str, str]] = []
        self._row: Row | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        named = dict(attrs)
        role, opened = named.get("role"), ""
        if tag in ("script", "style"):
            opened = "skip"
        elif role == "row":
            self._row, opened = Row(named.get("row-id")), "row"
            self.rows.append(self._row)
        elif role in ("cell", "gridcell") and self._row is not None and self._cell is None:
            self._cell, opened = [], "cell"
            self._row.cells.append((named.get("col-id"), self._cell))
        self._stack.append((tag, opened))

    def handle_endtag(self, tag: str) -> None:
        while self._stack:  # closes what the serialized DOM left open, as a browser would
            open_tag, opened = self._stack.pop()
            if opened == "row":
                self._row = None
            elif opened == "cell":
                self._cell = None
            if open_tag == tag:
                return

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not any(opened == "skip" for _, opened in self._stack):
            self.texts.append(text)
            if self._cell is not None:
                self._cell.append(text)


def _parsed(dom: str) -> _RowParser:
    parser = _RowParser()
    parser.feed(dom)
    parser.close()
    return parser


def table_rows(dom: str) -> list[Row]:
    """Every ARIA row of the page (``role="row"``) with its cells, in document order."""
    return _parsed(dom).rows


def page_texts(dom: str) -> list[str]:
    """The page's text nodes (whitespace collapsed; scripts and styles left out)."""
    return _parsed(dom).texts


def grid_cells(dom: str) -> dict[str, dict[str, list[str]]]:
    """The runs table as {run id: {column key: the cell's text nodes}} (a row's halves merged)."""
    grid: dict[str, dict[str, list[str]]] = {}
    for row in table_rows(dom):
        if row.row_id is not None:
            cells = grid.setdefault(row.row_id, {})
            cells.update({key: texts for key, texts in row.cells if key is not None})
    return grid


def check_runs_table(dom: str, runs: Iterable[RunTruth], metric_keys: Sequence[str]) -> list[str]:
    """What the runs table gets wrong: per run, a missing row, a Run Name cell without the run's
    name, or a metric cell (of ``metric_keys``, where the run has it) not showing its value; a run
    with none of those metrics is a problem too (nothing of it to see). Empty when all is shown."""
    grid, problems = grid_cells(dom), []
    for run in runs:
        label = f"run {run.name!r} ({run.run_id})"
        cells = grid.get(run.run_id)
        if cells is None:
            problems.append(f"{label}: no row in the runs table ({len(grid)} rows shown)")
            continue
        if run.name not in cells.get(RUN_NAME_COLUMN, []):
            problems.append(f"{label}: its Run Name cell shows {_shown(cells, RUN_NAME_COLUMN)}")
        keys = [key for key in metric_keys if key in run.metrics]
        if not keys:
            problems.append(f"{label}: logged none of the metrics {list(metric_keys)}")
        for key in keys:
            expected, shown = js_number(run.metrics[key]), _shown(cells, column_key("metrics", key))
            if shown != repr(expected):
                problems.append(f"{label}: metric {key} shows {shown}, MlflowClient reads {expected}")
    return problems


def _shown(cells: dict[str, list[str]], key: str) -> str:
    return repr(" ".join(cells[key])) if key in cells else "nothing (no such cell)"


def check_run_page(dom: str, run: RunTruth) -> list[str]:
    """What a run's overview page gets wrong: its name missing, or a metric of the run not in its
    metrics table (name, value) with the value MlflowClient reads. Empty when all is shown."""
    label = f"run {run.name!r} ({run.run_id}) page"
    problems = [] if run.name in page_texts(dom) else [f"{label}: the run's name is not on it"]
    shown = {" ".join(row.cells[0][1]): " ".join(row.cells[1][1]) for row in table_rows(dom)
             if len(row.cells) == 2}  # fmt: skip
    for key, value in sorted(run.metrics.items()):
        if shown.get(key) != js_number(value):
            printed = shown.get(key, "nothing")
            problems.append(f"{label}: metric {key} shows {printed!r}, MlflowClient reads {js_number(value)}")
    return problems
