"""PNG plots next to evaluation.json: what a reviewer looks at before approving a model.

Classification: ROC and precision-recall curves (binary) and the confusion matrix.
Regression: residuals and predicted-vs-actual. Rendered with matplotlib's Agg backend
(no display in a processing container), without pyplot's global figure state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def _figure() -> tuple[Figure, Any]:
    # Figure objects (not pyplot): no global state, and saving renders with the Agg canvas.
    # Imported here, once the test split is read and scored: Evaluate's peak is while reading,
    # and matplotlib's ~20 MB is not in it (3M rows: 281 -> 261 MB; 100k rows: 181 MB either way).
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(5, 5))
    return fig, fig.subplots()


def _curve(x: Sequence[float], y: Sequence[float], *, labels: tuple[str, str, str], path: Path) -> Path:
    fig, ax = _figure()
    ax.plot(x, y)
    ax.set(xlabel=labels[0], ylabel=labels[1], title=labels[2], xlim=(0, 1), ylim=(0, 1.02))
    return _save(fig, path)


def _confusion(matrix: Mapping[str, Mapping[str, int]], path: Path) -> Path:
    labels = list(matrix)
    counts = np.array([[matrix[a][p] for p in labels] for a in labels])
    fig, ax = _figure()
    ax.imshow(counts, cmap="Blues")
    ax.set(xticks=range(len(labels)), yticks=range(len(labels)), xlabel="predicted", ylabel="actual")
    ax.set_xticklabels(labels, rotation=45, ha="right")
    ax.set_yticklabels(labels)
    for (i, j), n in np.ndenumerate(counts):
        ax.text(j, i, str(n), ha="center", va="center", color="white" if n > counts.max() / 2 else "black")
    ax.set_title("Confusion matrix (test split)")
    return _save(fig, path)


def write_plots(
    report_section: Mapping[str, Any],
    out_dir: Path,
    y_true: npt.NDArray[Any] | None = None,
    predictions: npt.NDArray[Any] | None = None,
) -> list[Path]:
    """Write the plots a metrics section supports into ``out_dir``; returns the files written.

    Regression plots need ``y_true`` and ``predictions``; classification plots use the report.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    roc = report_section.get("receiver_operating_characteristic_curve")
    if roc:
        labels = ("false positive rate", "true positive rate", "ROC curve (test split)")
        path = out_dir / "roc_curve.png"
        written.append(
            _curve(roc["false_positive_rates"], roc["true_positive_rates"], labels=labels, path=path)
        )
    pr = report_section.get("precision_recall_curve")
    if pr:
        labels = ("recall", "precision", "Precision-recall curve (test split)")
        path = out_dir / "precision_recall_curve.png"
        written.append(_curve(pr["recalls"], pr["precisions"], labels=labels, path=path))
    if "confusion_matrix" in report_section:
        written.append(_confusion(report_section["confusion_matrix"], out_dir / "confusion_matrix.png"))
    if "r2" in report_section and y_true is not None and predictions is not None:
        fig, ax = _figure()
        ax.scatter(predictions, y_true - predictions, s=8, alpha=0.6)
        ax.axhline(0, color="grey", linewidth=1)
        ax.set(xlabel="predicted", ylabel="residual (actual - predicted)", title="Residuals (test split)")
        written.append(_save(fig, out_dir / "residuals.png"))
        fig, ax = _figure()
        ax.scatter(y_true, predictions, s=8, alpha=0.6)
        low, high = float(min(y_true.min(), predictions.min())), float(max(y_true.max(), predictions.max()))
        ax.plot([low, high], [low, high], color="grey", linewidth=1)
        ax.set(xlabel="actual", ylabel="predicted", title="Predicted vs actual (test split)")
        written.append(_save(fig, out_dir / "predicted_vs_actual.png"))
    return written
