"""What the ScoreReport step reads: input objects paired with their Transform outputs, the scored
rows' features, the version's baseline, and the names of the predictions' columns.

Input files are headerless CSV (``[key,]`` then the model's features in training order); each
``<path>`` under the input folder has its Transform output ``<path>.out`` under the predictions
folder (``contract.TRANSFORM_OUTPUT_SUFFIX``), one line per input row.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from ml_code import contract
from ml_code.errors import DataValidationError
from ml_code.serving.payload_codec import decode


def _data_lines(path: Path) -> list[str]:
    """The non-empty lines of a file (a batch transform sends no empty line)."""
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line]


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def paired_files(input_dir: Path, predictions_dir: Path) -> list[dict[str, Any]]:
    """Per input file (sorted): ``input``/``output`` (paths below their folders), ``rows``,
    ``first_line`` (of the output) and ``input_width`` (cells of its first row).

    Raises:
        DataValidationError: no input files, an input without its output, or a row count that differs.
    """
    inputs = _files(input_dir)
    if not inputs:
        raise DataValidationError(f"no scored input files in {input_dir}")
    paired = []
    for path in inputs:
        relative = path.relative_to(input_dir).as_posix()
        output = predictions_dir / f"{relative}{contract.TRANSFORM_OUTPUT_SUFFIX}"
        if not output.is_file():
            raise DataValidationError(
                f"input {relative} has no predictions {output.name} in {predictions_dir} "
                "(the Transform job wrote none for it)"
            )
        rows, answers = _data_lines(path), _data_lines(output)
        if len(rows) != len(answers):
            raise DataValidationError(
                f"input {relative} has {len(rows)} rows but its predictions {len(answers)} lines"
            )
        paired.append({
            "input": relative, "output": f"{relative}{contract.TRANSFORM_OUTPUT_SUFFIX}", "rows": len(rows),
            "first_line": answers[0] if answers else "",
            "input_width": len(rows[0].split(",")) if rows else 0,
        })  # fmt: skip
    return paired


def output_columns(problem_type: str, key_column: str | None, *, width: int, input_width: int) -> list[str]:
    """Header names of the predictions' columns (``width`` cells per line; 0: no line to count).

    Binary ``label, probability``; regression ``score``; multiclass ``label`` then ``p(<i>)`` for
    the i-th label in the model's label order (``labels`` in model-meta.json: the registry does not
    carry them). With a key column it comes first; for multiclass the whole joined row is kept
    (the batch pipeline's OutputFilter is ``$``), so the input's feature cells follow the key as
    ``input_<i>``.
    """
    head = [key_column] if key_column else []
    if problem_type == "binary":
        return [*head, "label", "probability"]
    if problem_type == "regression":
        return [*head, "score"]
    if key_column:
        head += [f"input_{i}" for i in range(1, max(input_width, 1))]
    classes = max(width - len(head) - 1, 0)
    return [*head, "label", *(f"p({i})" for i in range(classes))]


def scored_features(input_dir: Path, names: list[str], keyed: bool) -> pd.DataFrame:
    """Every scored row's features (columns ``names``; the key cell dropped when ``keyed``), as the
    drift check reads captured CSV requests (cells as text, empty = missing).

    Raises:
        DataValidationError: a row whose cell count is not the baseline's features (plus the key).
    """
    rows: list[list[Any]] = []
    for path in _files(input_dir):
        text = path.read_text(encoding="utf-8")
        if not text.strip():
            continue
        for number, row in enumerate(decode(text, contract.CONTENT_TYPE_CSV).rows, 1):
            cells = list(row[1:] if keyed else row)  # type: ignore[index]
            if len(cells) != len(names):
                raise DataValidationError(
                    f"{path.relative_to(input_dir)} row {number}: {len(cells)} feature cells, "
                    f"the baseline has {len(names)}"
                )
            rows.append(cells)
    return pd.DataFrame(rows, columns=names)


def load_baseline_if_any(baseline_dir: Path) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(statistics, constraints) from ``baseline_dir``; None when it holds no statistics file.

    Without ``constraints.json`` the categories' domains are unknown (no unseen-category check).
    Raises DataValidationError for a file that is there but unreadable.
    """
    statistics_path = baseline_dir / contract.BASELINE_STATISTICS_FILE
    if not statistics_path.is_file():
        return None
    docs: list[dict[str, Any]] = []
    for path in (statistics_path, baseline_dir / contract.BASELINE_CONSTRAINTS_FILE):
        if not path.is_file():
            docs.append({"features": []})
            continue
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if not all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in doc["features"]):
                raise ValueError("every feature needs a name")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataValidationError(f"no readable baseline {path.name} in {baseline_dir}: {exc}") from exc
        docs.append(doc)
    return docs[0], docs[1]
