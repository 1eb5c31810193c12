"""ml_code.xgboost_lib: XGBoost loads without scikit-learn, which stays importable afterwards.

Each case runs in a fresh interpreter: what a module imports is only visible before anything else
has imported it (the test process itself has scikit-learn loaded long before).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _fresh(code: str) -> dict[str, object]:
    """Run ``code`` in a new interpreter at the repository root; the JSON it prints last."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("module", ["ml_code.steps.train", "ml_code.serving.inference"])
def test_training_and_serving_load_xgboost_without_scikit_learn(module: str) -> None:
    seen = _fresh(
        f"import json, sys, {module}\n"
        "before = 'sklearn' in sys.modules\n"
        "from sklearn import metrics\n"  # let back in: Evaluate and the gate still import it
        "print(json.dumps({'xgboost': 'xgboost' in sys.modules, 'sklearn_before': before,\n"
        "    'auc': metrics.roc_auc_score([0, 1], [0.2, 0.8])}))"
    )
    assert seen == {"xgboost": True, "sklearn_before": False, "auc": 1.0}


def test_a_loaded_scikit_learn_is_left_alone() -> None:
    seen = _fresh(
        "import json, sklearn\n"
        "from ml_code.xgboost_lib import xgb\n"
        "print(json.dumps({'estimators': xgb.compat.SKLEARN_INSTALLED}))"
    )
    assert seen == {"estimators": True}


def test_xgboost_still_trains_and_predicts_without_its_estimators() -> None:
    seen = _fresh(
        "import json, numpy as np\n"
        "from ml_code.xgboost_lib import xgb\n"
        "x = np.arange(40, dtype=np.float32).reshape(20, 2); y = (x[:, 0] > 19).astype(np.float32)\n"
        "booster = xgb.train({'objective': 'binary:logistic'}, xgb.DMatrix(x, label=y), 5)\n"
        "p = booster.inplace_predict(x)\n"
        "separates = bool(p[:10].max() < p[10:].min())\n"
        "print(json.dumps({'estimators': xgb.compat.SKLEARN_INSTALLED, 'separates': separates}))"
    )
    assert seen == {"estimators": False, "separates": True}
