"""Look at the MLflow UI (issue 15 point 6): the store's runs in a browser, as a data scientist sees them.

    .venv/bin/python -m benchmarks.mlflow_ui [--store .demo/mlflow] [--screenshot docs/mlflow-ui.png]
                                             [--populate] [--run-pages 3]

1. Serves a snapshot of the store (``make demo`` leaves ``.demo/mlflow``: ``mlflow.db`` and
   ``artifacts/``) with ``.venv/bin/mlflow server`` on loopback (benchmarks/mlflow_ui_store.py).
2. Reads every experiment's runs with ``MlflowClient``: the truth.
3. Opens each experiment's runs table in Debian's headless Chromium (benchmarks/mlflow_ui_browser.py),
   with a shared view selecting a few metric columns and the gate tag, and checks that every run has
   its row, its name and each of those metrics' values as the UI prints them
   (benchmarks/mlflow_ui_page.py); then the newest ``--run-pages`` runs' own pages, each of which
   must list every metric the run logged with its value.
4. When all is shown: screenshots (PNG) of the largest experiment's runs table (``--screenshot``,
   1600x1000) and of its newest passed run's page (the same name with ``-run``; 1600x1700, as the
   page puts its metrics table below the fold of 1000 pixels).

Exit status: 0 when everything is shown, 1 naming each run, name or value missing, 2 when there is
nothing to look at (no store, no runs, no Chromium). ``--populate`` first makes a development store
(benchmarks/mlflow_ui_populate.py) in ``--store`` (which must not hold one; default a temp folder),
so the check runs without the demo.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from benchmarks.mlflow_ui_browser import TALL_WINDOW, BrowserError, rendered_dom, screenshot
from benchmarks.mlflow_ui_page import (
    RunTruth,
    check_run_page,
    check_runs_table,
    choose_metrics,
    run_url,
    runs_url,
    shared_view_state,
)
from benchmarks.mlflow_ui_populate import populate
from benchmarks.mlflow_ui_store import ExperimentTruth, StoreError, read_truth, served_snapshot, share_view
from ml_code import contract
from ml_code.steps.track import GATE_TAG

REPO: Final = Path(__file__).resolve().parent.parent
DEMO_STORE: Final = REPO / ".demo" / "mlflow"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.mlflow_ui", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--store", type=Path, help=f"the MLflow store (default {DEMO_STORE.relative_to(REPO)})"
    )
    parser.add_argument("--screenshot", type=Path, help="PNG of the runs table (and <name>-run.png of a run)")
    parser.add_argument("--populate", action="store_true", help="first make a development store in --store")
    parser.add_argument("--run-pages", type=int, default=3, help="run pages to check per experiment (newest)")
    return parser.parse_args(argv)


def featured_run(experiment: ExperimentTruth) -> RunTruth:
    """The run to show: the newest whose gate passed, else the newest."""
    passed = [run for run in experiment.runs if run.tags.get(GATE_TAG) == contract.GATE_PASSED]
    return (passed or list(experiment.runs))[0]


def check_experiment(url: str, experiment: ExperimentTruth, run_pages: int) -> tuple[list[str], int]:
    """The experiment's problems (runs table, then its newest run pages) and the virtual-time
    budget its runs table needed."""
    metric_keys = choose_metrics(experiment.runs)
    tags = [GATE_TAG] if any(GATE_TAG in run.tags for run in experiment.runs) else []
    share_view(url, experiment.experiment_id, shared_view_state(metric_keys, tags))
    _, problems, budget = rendered_dom(
        runs_url(url, experiment.experiment_id),
        lambda dom: check_runs_table(dom, experiment.runs, metric_keys),
    )
    print(
        f"experiment {experiment.name!r} ({experiment.experiment_id}): {len(experiment.runs)} runs, "
        f"columns {metric_keys + tags}: runs table {'OK' if not problems else 'WRONG'} ({budget} ms virtual)"
    )
    featured = featured_run(experiment)
    for run in [featured, *(run for run in experiment.runs if run != featured)][:run_pages]:
        found, run_budget = _check_run_page(url, experiment.experiment_id, run)
        verdict = "OK" if not found else "WRONG"
        print(f"  run {run.name!r}: page {verdict}, {len(run.metrics)} metrics ({run_budget} ms virtual)")
        problems += found
    return problems, budget


def _check_run_page(url: str, experiment_id: str, run: RunTruth) -> tuple[list[str], int]:
    def problems(dom: str) -> list[str]:
        return check_run_page(dom, run)

    _, found, budget = rendered_dom(run_url(url, experiment_id, run.run_id), problems)
    return found, budget


def take_screenshots(url: str, experiment: ExperimentTruth, path: Path, budget: int) -> list[Path]:
    """The runs table and the featured run's page, as PNGs at ``path`` and ``<path stem>-run.png``."""
    run = featured_run(experiment)
    return [
        screenshot(runs_url(url, experiment.experiment_id), path, budget),
        screenshot(
            run_url(url, experiment.experiment_id, run.run_id),
            path.with_stem(f"{path.stem}-run"),
            budget,
            TALL_WINDOW,
        ),
    ]


def look(store: Path, shot: Path | None, run_pages: int) -> int:
    """Serve ``store``, check what the UI shows and take the screenshots; the exit status."""
    with served_snapshot(store) as url:
        experiments = read_truth(url)
        if not experiments:
            print(f"nothing to look at: no experiment in {store} has a run", file=sys.stderr)
            return 2
        problems, budgets = [], {}
        for experiment in experiments:
            found, budgets[experiment.experiment_id] = check_experiment(url, experiment, run_pages)
            problems += found
        if problems:
            print(
                f"\nThe MLflow UI does not show {len(problems)} thing(s) MlflowClient reads:", file=sys.stderr
            )
            print("\n".join(f"- {problem}" for problem in problems), file=sys.stderr)
            return 1
        if shot is not None:
            largest = max(experiments, key=lambda experiment: len(experiment.runs))
            for path in take_screenshots(url, largest, shot, budgets[largest.experiment_id]):
                print(f"screenshot: {path}")
    print("the MLflow UI shows every run, its name and its metrics")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="mlflow-ui-dev-store-") as scratch:
            store = args.store or (Path(scratch) if args.populate else DEMO_STORE)
            if args.populate:
                print(f"development store: {populate(store)}")
            return look(store, args.screenshot, args.run_pages)
    except (StoreError, BrowserError) as exc:
        print(f"mlflow_ui: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
