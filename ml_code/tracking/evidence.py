"""What a pipeline run's MLflow run holds, read from the Track step's inputs.

- metrics: every finite number in ``evaluation.json`` under its dotted path (``binary_classification_
  metrics.auc.value``, ``quality_gate.champion_floor``; the curves' lists are left to the plots), and
  the training curve, ``<data>-<metric>`` at step = boosting round, from the model's training history;
- params: ``data_fingerprint`` and ``data_rows`` from Preprocess's fingerprint file;
- artifacts: ``evaluation/`` (the report and its plots), ``baseline/`` (statistics, constraints,
  fingerprint) and ``model/`` (training history, model meta), each a file.

A missing report, model, history or baseline file is a DataValidationError: a version is never
registered without its evidence.
"""

from __future__ import annotations

import json
import math
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ml_code import contract
from ml_code.errors import DataValidationError
from ml_code.tracking.runs import Metric

#: The model tarball's files the run keeps (the history is required, the meta is not).
MODEL_FILES: Final = (contract.TRAINING_HISTORY_FILE, contract.MODEL_META_FILE)
BASELINE_FILES: Final = (
    contract.BASELINE_STATISTICS_FILE, contract.BASELINE_CONSTRAINTS_FILE, contract.DATA_FINGERPRINT_FILE,
)  # fmt: skip


@dataclass
class Evidence:
    metrics: list[Metric] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
    #: artifact path in the run -> local file
    artifacts: dict[str, Path] = field(default_factory=dict)


def _json(path: Path, what: str) -> Any:
    if not path.is_file():
        raise DataValidationError(f"{what} is missing: {path.name} not found in {path.parent}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{what} {path.name} is not JSON: {exc}") from exc


def flat_numbers(node: Any, prefix: str = "") -> Iterator[tuple[str, float]]:
    """Every finite number under ``node`` (not booleans, not in lists) as (dotted path, value)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from flat_numbers(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(node, (int, float)) and not isinstance(node, bool) and math.isfinite(node):
        yield prefix, float(node)


def curve(history: Any) -> list[Metric]:
    """The training history ({"<data>-<metric>": [value or null per round]}) as metrics per round."""
    if not isinstance(history, dict) or not all(isinstance(v, list) for v in history.values()):
        raise DataValidationError(f"{contract.TRAINING_HISTORY_FILE} is not an object of lists per round")
    return [
        Metric(str(key), float(value), step)
        for key, values in history.items()
        for step, value in enumerate(values)
        if isinstance(value, (int, float)) and math.isfinite(value)
    ]


def unpack_model_files(model_dir: Path, into: Path) -> dict[str, Path]:
    """The tracked files of the ``model.tar.gz`` in ``model_dir``, extracted into ``into``."""
    tarballs = sorted(model_dir.glob("*.tar.gz")) if model_dir.is_dir() else []
    if len(tarballs) != 1:
        raise DataValidationError(f"expected one model tarball in {model_dir}, found {len(tarballs)}")
    into.mkdir(parents=True, exist_ok=True)
    found: dict[str, Path] = {}
    with tarfile.open(tarballs[0], "r:gz") as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix("./")
            handle = tar.extractfile(member) if member.isfile() and name in MODEL_FILES else None
            if handle is not None:
                found[name] = into / name
                found[name].write_bytes(handle.read())
    if contract.TRAINING_HISTORY_FILE not in found:
        raise DataValidationError(f"{tarballs[0].name} has no {contract.TRAINING_HISTORY_FILE} "
                                  "(a model trained before training histories were kept?)")  # fmt: skip
    return found


def _model(evidence: Evidence, model_dir: Path, workdir: Path) -> None:
    files = unpack_model_files(model_dir, workdir / "model")
    evidence.metrics += curve(_json(files[contract.TRAINING_HISTORY_FILE], "the training history"))
    meta = _json(files[contract.MODEL_META_FILE], "the model meta") if len(files) > 1 else {}
    for key in ("best_iteration", "num_boosted_rounds"):
        if isinstance(meta.get(key), int):
            evidence.metrics.append(Metric(key, float(meta[key])))
    evidence.artifacts.update({f"model/{name}": path for name, path in files.items()})


def _baseline(evidence: Evidence, baseline_dir: Path) -> None:
    for name in BASELINE_FILES:
        _json(baseline_dir / name, "Preprocess's baseline")
        evidence.artifacts[f"baseline/{name}"] = baseline_dir / name
    found = _json(baseline_dir / contract.DATA_FINGERPRINT_FILE, "the data fingerprint")
    if not isinstance(found, dict) or "fingerprint" not in found or "rows" not in found:
        raise DataValidationError(f"{contract.DATA_FINGERPRINT_FILE} has no fingerprint and rows")
    evidence.params.update(data_fingerprint=str(found["fingerprint"]), data_rows=str(found["rows"]))


def gather(evaluation_dir: Path, model_dir: Path, baseline_dir: Path, workdir: Path) -> Evidence:
    """Everything the run logs from the three input folders (``workdir`` takes the unpacked files).

    Raises DataValidationError naming the first missing or unreadable file.
    """
    evidence = Evidence()
    report = _json(evaluation_dir / contract.EVALUATION_FILE, "the evaluation report")
    evidence.metrics = [Metric(key, value) for key, value in flat_numbers(report)]
    evidence.artifacts[f"evaluation/{contract.EVALUATION_FILE}"] = evaluation_dir / contract.EVALUATION_FILE
    for plot in sorted(evaluation_dir.glob("*.png")):
        evidence.artifacts[f"evaluation/{plot.name}"] = plot
    _model(evidence, model_dir, workdir)
    _baseline(evidence, baseline_dir)
    return evidence
