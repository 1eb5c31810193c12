"""What the training job leaves in its model dir: the booster, the transformer, the model meta and
the serving code the hosting container imports. ``train.py`` re-exports :func:`model_meta` and
:func:`package_serving_code`."""

from __future__ import annotations

import json
import platform
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml_code import contract
from ml_code.features import FeatureTransformer
from ml_code.steps.hyperparameters import Hyperparameters
from ml_code.xgboost_lib import xgb


def model_meta(booster: xgb.Booster, transformer: FeatureTransformer, hp: Hyperparameters) -> dict[str, Any]:
    """What the model package records next to the model: problem, labels, features, versions."""
    return {
        "problem_type": transformer.problem_type,
        "target": transformer.target,
        "labels": transformer.labels,
        "feature_names": transformer.feature_names,
        "output_names": transformer.output_names,
        "best_iteration": int(booster.attr("best_iteration") or booster.num_boosted_rounds() - 1),
        "best_score": float(score) if (score := booster.attr("best_score")) else None,
        "num_boosted_rounds": booster.num_boosted_rounds(),
        "hyperparameters": asdict(hp),
        "library_versions": {
            "python": platform.python_version(),
            "xgboost": xgb.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
        },
    }


def write_model_dir(
    model_dir: Path, booster: xgb.Booster, transformer: FeatureTransformer, meta: dict[str, Any]
) -> None:
    """Write the model, ``transformer.json``, the model meta and the serving code into ``model_dir``."""
    model_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(model_dir / contract.MODEL_FILE))
    (model_dir / contract.TRANSFORMER_FILE).write_text(transformer.to_json(), encoding="utf-8")
    (model_dir / contract.MODEL_META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    package_serving_code(model_dir)


def package_serving_code(model_dir: Path) -> Path:
    """Copy this ml_code package and the serving shim into ``model_dir/code``; returns that dir.

    The hosting container imports ``inference.py`` from SAGEMAKER_SUBMIT_DIRECTORY, which
    the registered model points at this folder, so the model carries its own serving code.
    """
    code_dir = model_dir / contract.MODEL_CODE_DIR
    if code_dir.exists():
        shutil.rmtree(code_dir)
    package = Path(__file__).resolve().parents[1]  # ml_code, not ml_code/steps
    shutil.copytree(
        package, code_dir / package.name, ignore=shutil.ignore_patterns("__pycache__", "*.py[co]")
    )
    (code_dir / contract.SERVING_PROGRAM).write_text(contract.SERVING_SHIM_SOURCE, encoding="utf-8")
    return code_dir
