"""XGBoost, loaded without scikit-learn: every module of ``ml_code`` takes it from here.

``import xgboost`` imports scikit-learn (``xgboost.compat``, for the estimators in
``xgboost.sklearn``), and scikit-learn imports most of SciPy: about 1.1 s of CPU and 60 MB of
resident memory on top of the ~1 s and ~130 MB of a process that imports XGBoost without it
(the interpreter, numpy and pandas included), measured on the 2-core CI machine with
``/usr/bin/time`` and ``python -X importtime -c "import xgboost"``. ``ml_code`` never uses those
estimators (it trains with ``xgb.train`` and predicts through the Booster), yet every process that
trains, serves or scores paid for them: each Train host, model server worker and Transform worker.

So scikit-learn is kept out while XGBoost itself imports (``sys.modules["sklearn"] = None`` makes
``import sklearn`` raise ``ImportError``, which ``xgboost.compat`` catches: its estimators then
derive from ``object``) and let back in right after: Evaluate and the gate import
``sklearn.metrics`` as before. If scikit-learn or XGBoost is already loaded (the serving toolkit in
the SageMaker image imports XGBoost before our code), nothing is blocked and nothing changes.

ruff's banned-API rule (TID251, pyproject.toml) keeps ``import xgboost`` out of ``ml_code``
elsewhere, and tests/unit/test_xgboost_lib.py runs the entry points in fresh processes and requires
scikit-learn to stay unloaded.
"""

from __future__ import annotations

import sys

_BLOCKED = "sklearn"
_block = _BLOCKED not in sys.modules and "xgboost" not in sys.modules
if _block:
    sys.modules[_BLOCKED] = None  # type: ignore[assignment]  # the documented way to make an import fail
try:
    import xgboost as xgb  # noqa: TID251 - the one place it is imported
    from xgboost import collective as xgb_collective  # noqa: TID251
    from xgboost.tracker import RabitTracker  # noqa: TID251
finally:
    if _block:
        del sys.modules[_BLOCKED]

__all__ = ["RabitTracker", "xgb", "xgb_collective"]
