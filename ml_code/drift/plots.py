"""A drift report a person can read: per-feature distance against its threshold and, for the most
drifted features, the training distribution next to the recent one.

Input: the check's ``drift_metrics.json`` and (optionally) ``drift_distributions.json`` documents
(ml_code.drift.report). Rendered with matplotlib's Agg canvas like ``ml_code.steps.plots``; no clock or
randomness, so the same reports draw the same picture.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

DRIFT_COLOR: Final = "#c0392b"
OK_COLOR: Final = "#7f8c8d"
BASELINE_COLOR: Final = "#2c7fb8"
#: Categorical panels show at most this many categories (the largest by either share).
MAX_BARS: Final = 12


def drift_chart(
    metrics: Mapping[str, Any], path: Path, distributions: Mapping[str, Any] | None = None, top: int = 4
) -> Path:
    """Draw the report into ``path`` (PNG) and return it: a bar per feature (distance, drifted
    ones red, threshold ticked) and, given ``distributions``, baseline vs recent shares of the
    ``top`` most drifted features (the largest distances when none drifted).

    Raises KeyError when ``metrics`` lacks the drift_metrics.json fields.
    """
    features = sorted(metrics["features"], key=lambda f: f["distance"])
    shares = {f["feature_name"]: f for f in (distributions or {}).get("features", []) if f.get("bins")}
    ranked = sorted(features, key=lambda f: (not f["drifted"], -f["distance"]))
    panels = [shares[f["feature_name"]] for f in ranked if f["feature_name"] in shares][:top]
    rows = (len(panels) + 1) // 2
    bar_height = 0.4 * len(features) + 1.6
    fig = Figure(figsize=(11, bar_height + 3.2 * rows))
    grid = fig.add_gridspec(1 + rows, 2, height_ratios=[bar_height] + [3.2] * rows)
    _distances(fig.add_subplot(grid[0, :]), metrics, features, distributions)
    for index, panel in enumerate(panels):
        _shares(fig.add_subplot(grid[1 + index // 2, index % 2]), panel)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90, metadata={"Software": None})
    return path


def _distances(
    ax: Axes, metrics: Mapping[str, Any], features: list[Any], extra: Mapping[str, Any] | None
) -> None:
    names = [f["feature_name"] for f in features]
    ax.barh(names, [f["distance"] for f in features], color=[DRIFT_COLOR if f["drifted"] else OK_COLOR
                                                               for f in features])  # fmt: skip
    for y, feature in enumerate(features):
        ax.plot([feature["threshold"]] * 2, [y - 0.4, y + 0.4], color="black", linewidth=1.5)
    drifted = sum(1 for f in features if f["drifted"])
    title = f"{metrics['endpoint_name']}: {drifted} of {len(features)} features drifted"
    title += f" ({metrics['records']} records)"
    if extra is not None and not extra.get("enough_records", True):
        title += f"\nnot enough records to judge drift (minimum {extra.get('min_records')})"
    ax.set_title(title)
    ax.set_xlabel("Jensen-Shannon distance from the training baseline (black tick: threshold)")
    ax.set_xlim(0, max([1.0, *(f["distance"] for f in features)]))


def _shares(ax: Axes, feature: Mapping[str, Any]) -> None:
    bins, base, recent = list(feature["bins"]), np.asarray(feature["baseline"]), np.asarray(feature["recent"])
    if len(bins) > MAX_BARS:
        keep = sorted(np.argsort(-np.maximum(base, recent))[:MAX_BARS])
        bins, base, recent = [bins[i] for i in keep], base[keep], recent[keep]
    x = np.arange(len(bins))
    ax.bar(x - 0.2, base, width=0.4, color=BASELINE_COLOR, label="training")
    ax.bar(x + 0.2, recent, width=0.4, color=DRIFT_COLOR, label="recent")
    ax.set_xticks(x, bins, rotation=35, ha="right", fontsize=7)
    ax.set_ylabel("share of records")
    ax.set_title(feature["feature_name"])
    ax.legend(fontsize=8)


def drift_table(metrics: Mapping[str, Any]) -> list[str]:
    """The same report as text lines, worst first (for terminals and logs)."""
    lines = []
    for f in sorted(metrics["features"], key=lambda f: -f["distance"]):
        bar = "#" * round(min(f["distance"], 1.0) * 40)
        mark = "DRIFT" if f["drifted"] else "ok"
        lines.append(f"  {f['feature_name']:<18} {f['distance']:.3f} / {f['threshold']:.2f} {mark:<5} {bar}")
    return lines
