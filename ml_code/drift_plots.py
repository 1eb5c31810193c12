"""A drift report a person can read: per-feature distance against its threshold.

One horizontal bar per feature (drifted ones in red, with the threshold marked), rendered with
matplotlib's Agg canvas like ``ml_code.plots``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure


def drift_chart(metrics: Mapping[str, Any], path: Path) -> Path:
    """Draw ``drift_metrics.json``'s features (distance vs threshold) into ``path`` (PNG); return it."""
    features = sorted(metrics["features"], key=lambda f: f["distance"])
    names = [f["feature_name"] for f in features]
    fig = Figure(figsize=(7, 0.45 * len(names) + 1.6))
    ax = fig.subplots()
    colors = ["#c0392b" if f["drifted"] else "#7f8c8d" for f in features]
    ax.barh(names, [f["distance"] for f in features], color=colors)
    for y, feature in enumerate(features):
        ax.plot([feature["threshold"]] * 2, [y - 0.4, y + 0.4], color="black", linewidth=1.5)
    drifted = sum(1 for f in features if f["drifted"])
    ax.set_xlabel("Jensen-Shannon distance from the training baseline (black tick: threshold)")
    ax.set_title(f"{metrics['endpoint_name']}: {drifted} of {len(features)} features drifted "
                 f"({metrics['records']} records)")  # fmt: skip
    ax.set_xlim(0, max(1.0, *(f["distance"] for f in features)) if features else 1.0)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def drift_table(metrics: Mapping[str, Any]) -> list[str]:
    """The same report as text lines, worst first (for terminals and logs)."""
    lines = []
    for f in sorted(metrics["features"], key=lambda f: -f["distance"]):
        bar = "#" * round(min(f["distance"], 1.0) * 40)
        mark = "DRIFT" if f["drifted"] else "ok"
        lines.append(f"  {f['feature_name']:<18} {f['distance']:.3f} / {f['threshold']:.2f} {mark:<5} {bar}")
    return lines
