"""The scale benchmark's results as a Markdown table, its targets checked, and its plot.

    .venv/bin/python -m benchmarks.scale_report [benchmarks/scale_results.json]

prints the table and the targets again and redraws the plot from a results file
(:mod:`benchmarks.bench_scale` writes both after every run).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

# Figure objects (not pyplot): no global state, and saving renders with the Agg canvas.
from matplotlib.figure import Figure

HERE: Final = Path(__file__).resolve().parent
RESULTS_FILE: Final = HERE / "scale_results.json"
PLOT_FILE: Final = HERE / "scale.png"
STEPS: Final = ("generate", "profile", "preprocess", "train", "evaluate")
#: The issue's targets.
RSS_GROWTH_LIMIT: Final = 2.0
METRIC_TOLERANCE: Final = 0.005

Run = dict[str, Any]


def _ok(run: Run) -> bool:
    return "error" not in run


def peak_mb(run: Run, step: str | None = None) -> float:
    """The largest peak RSS of one instance (any step, or ``step``'s hosts) in ``run``; MB."""
    return max((h["peak_rss_mb"] for h in run["hosts"] if step in (None, h["step"])), default=0.0)


def wall_s(run: Run, step: str) -> float:
    """The step's wall time: its slowest host's."""
    return max((h["wall_s"] for h in run["hosts"] if h["step"] == step), default=0.0)


def _cell(results: dict[str, Any], run: Run, step: str) -> str:
    if step == "generate":
        made = results.get("generate", {}).get(str(run["rows"]))
        return f"{made['wall_s']:.1f} s / {made['peak_rss_mb']:.0f} MB" if made else "—"
    if not any(h["step"] == step for h in run["hosts"]):
        return "—"
    return f"{wall_s(run, step):.1f} s / {peak_mb(run, step):.0f} MB"


def table(results: dict[str, Any]) -> str:
    """One row per run: each step's wall time / largest per-instance peak RSS, end to end, AUC
    (generate: the data's, shared by both runs of a size)."""
    head = (
        "| Rows | P=T | "
        + " | ".join(STEPS)
        + " | End to end (no generate) | Test AUC | Load avg (1 min, start → end) |"
    )
    lines = [head, "|" + "---|" * (len(STEPS) + 5)]
    for run in results["runs"]:
        cells = [_cell(results, run, step) for step in STEPS]
        end = f"{run['end_to_end_s']:.1f} s" if _ok(run) else f"failed: {run['error'][:80]}"
        auc = f"{run['auc']:.4f}" if _ok(run) else "—"
        if _ok(run) and "num_boosted_rounds" in run.get("model", {}):
            auc += f" ({run['model']['num_boosted_rounds']} rounds)"
        load = f"{run['load_before'][0]:.1f} → {run['load_after'][0]:.1f}"
        lines.append(
            f"| {run['rows']:,} | {run['instances']} | " + " | ".join(cells) + f" | {end} | {auc} | {load} |"
        )
    return "\n".join(lines)


def _by(results: dict[str, Any]) -> dict[tuple[int, int], Run]:
    return {(r["rows"], r["instances"]): r for r in results["runs"]}


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """Each issue target: (what, the figures, met)."""
    runs = _by(results)
    if not runs:
        return []
    sizes = sorted({rows for rows, _ in runs})
    counts = sorted({p for _, p in runs})
    small, large = sizes[0], sizes[-1]
    out = []
    for p in counts:
        a, b = runs.get((small, p)), runs.get((large, p))
        if a and b and _ok(a) and _ok(b):
            ratio = peak_mb(b) / peak_mb(a)
            per_step = ", ".join(
                f"{s} {peak_mb(b, s) / peak_mb(a, s):.2f}x"
                for s in STEPS[1:]
                if peak_mb(a, s) and peak_mb(b, s)
            )
            figures = f"{peak_mb(a):.0f} MB → {peak_mb(b):.0f} MB = {ratio:.2f}x ({per_step})"
            out.append((f"peak RSS per instance, P={p}: {large:,} rows within 2x of {small:,}", figures,
                        ratio <= RSS_GROWTH_LIMIT))  # fmt: skip
        else:
            out.append((f"peak RSS per instance, P={p}", "a run failed or is missing", False))
    for p in counts:
        run = runs.get((large, p))
        done = bool(run and _ok(run))
        figures = (
            f"{run['end_to_end_s']:.0f} s" if run and done else (run or {}).get("error", "not run")[:200]
        )
        out.append((f"{large:,} rows end to end, P={p}", figures, done))
    for rows in sizes:
        one, two = runs.get((rows, 1)), runs.get((rows, 2))
        if one and two and _ok(one) and _ok(two):
            gap = abs(two["auc"] - one["auc"])
            figures = f"AUC {one['auc']:.4f} (1) vs {two['auc']:.4f} (2): gap {gap:.4f}"
            out.append((f"{rows:,} rows: 2-instance test AUC within 0.005 of 1-instance", figures,
                        gap <= METRIC_TOLERANCE))  # fmt: skip
    return out


def plot(results: dict[str, Any], path: Path = PLOT_FILE) -> None:
    """Peak RSS per instance and end-to-end wall time vs rows, one line per P (log-log)."""
    fig = Figure(figsize=(11, 4.2))
    rss, wall = fig.subplots(1, 2)
    for p in sorted({r["instances"] for r in results["runs"]}):
        done = sorted((r for r in results["runs"] if r["instances"] == p and _ok(r)), key=lambda r: r["rows"])
        rows = [r["rows"] for r in done]
        (line,) = rss.plot(rows, [peak_mb(r) for r in done], marker="o", label=f"P=T={p}")
        if len(done) > 1:  # the target: within 2x of the smallest size's figure
            limit = RSS_GROWTH_LIMIT * peak_mb(done[0])
            rss.plot([rows[0], rows[-1]], [limit, limit], linestyle="--", color=line.get_color(),
                     label=f"2x its {rows[0]:,}-row figure")  # fmt: skip
        wall.plot(rows, [r["end_to_end_s"] for r in done], marker="o", label=f"P=T={p}")
    scale = "log" if any(_ok(r) for r in results["runs"]) else "linear"  # a log axis of nothing fails
    rss.set(
        xscale=scale, yscale=scale, xlabel="rows", ylabel="MB", title="Peak RSS of one instance (largest)"
    )
    wall.set(xscale=scale, yscale=scale, xlabel="rows", ylabel="s", title="Wall time, end to end")
    for axes in (rss, wall):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
    fig.suptitle(f"Scale benchmark, {results['date']} ({results['machine']['cpus']} cores, shared)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def summary(results: dict[str, Any]) -> str:
    """The table and the targets, as Markdown."""
    lines = [table(results), ""]
    for what, figures, met in targets(results):
        lines.append(f"- {what}: {figures} — **{'met' if met else 'not met'}**")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print and plot the scale benchmark's results.")
    parser.add_argument("results", type=Path, nargs="?", default=RESULTS_FILE)
    parser.add_argument("--plot", type=Path, default=PLOT_FILE)
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text(encoding="utf-8"))
    plot(results, args.plot)
    print(summary(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
