"""``Booster.inplace_predict`` on a dense float32 matrix, without its per-call overhead.

Why: serving one row, ``inplace_predict`` took ~210 µs on the benchmark machine, of which the
trees took ~30 µs. The rest is the Python wrapper (type sniffing for pandas/arrow/cudf/polars,
JSON-encoding the arguments, wrapping the result) and, in xgboost 3.0's C library, a new proxy
DMatrix per call whose construction reads the cgroup CPU quota files (two ``open``/``read``
pairs and three ``stat`` calls per prediction; see benchmarks/README.md).

:class:`DensePredictor` calls the same C function ``inplace_predict`` ends in
(``XGBoosterPredictFromDense``, xgboost's documented C API) with the same arguments, but hands
it a proxy DMatrix made once per thread, so the answer is the one ``inplace_predict`` gives,
bit for bit (tests/unit/test_dense_predict.py). Anything unusual (another dtype or layout, a
C error, an xgboost without these internals) goes through ``inplace_predict`` itself, which
then answers or raises as it always does.

Thread safety: the C library's inplace prediction is thread-safe; the proxy is not shared
between threads (``make serve`` predicts large batches in a small thread pool).
"""

from __future__ import annotations

import ctypes
import json
import math
import threading
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ml_code.xgboost_lib import xgb

#: The arguments inplace_predict sends for its defaults (value output, every tree, NaN missing).
_ARGS: Final = json.dumps({
    "type": 0, "training": False, "iteration_begin": 0, "iteration_end": 0,
    "missing": math.nan, "strict_shape": False, "cache_id": 0,
}).encode()  # fmt: skip
_FLOAT32: Final = np.dtype(np.float32)
#: numpy's ``__array_interface__`` of a C-contiguous float32 matrix, as xgboost's JSON reader takes it.
_INTERFACE: Final = (
    b'{"data": [%%d, true], "shape": [%%d, %%d], "strides": null, "typestr": "%s", "version": 3}'
    % _FLOAT32.str.encode()
)


def _c_api() -> tuple[Any, Any] | None:
    """xgboost's loaded C library and its proxy DMatrix type, or None if this xgboost lacks them."""
    try:
        core = xgb.core
        lib, proxy_type = core._LIB, core._ProxyDMatrix
        lib.XGBoosterPredictFromDense  # noqa: B018 - the symbol must exist
    except AttributeError:
        return None
    return lib, proxy_type


class _Call:
    """One thread's proxy DMatrix and output slots for XGBoosterPredictFromDense."""

    def __init__(self, lib: Any, proxy_type: Any) -> None:
        self.predict = lib.XGBoosterPredictFromDense
        self.proxy = proxy_type()  # reading the cgroup files once, here
        self.shape = ctypes.POINTER(ctypes.c_uint64)()
        self.dims = ctypes.c_uint64()
        self.out = ctypes.POINTER(ctypes.c_float)()
        self.outputs = (ctypes.byref(self.shape), ctypes.byref(self.dims), ctypes.byref(self.out))


class DensePredictor:
    """``predictor(matrix)`` == ``np.asarray(booster.inplace_predict(matrix), dtype=np.float32)``."""

    def __init__(self, booster: xgb.Booster) -> None:
        self.booster = booster
        self.num_features = booster.num_features()
        self._api = _c_api()
        self._local = threading.local()

    def __call__(self, matrix: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
        if (
            self._api is None
            or matrix.dtype != _FLOAT32
            or matrix.ndim != 2
            or matrix.shape[1] != self.num_features
            or not matrix.flags.c_contiguous
            or matrix.shape[0] == 0
        ):
            return self._wrapped(matrix)
        call = getattr(self._local, "call", None)
        if call is None:
            call = self._local.call = _Call(*self._api)
        rows, cols = matrix.shape
        interface = _INTERFACE % (matrix.__array_interface__["data"][0], rows, cols)
        if call.predict(self.booster.handle, interface, _ARGS, call.proxy.handle, *call.outputs) != 0:
            return self._wrapped(matrix)  # raises xgboost's own error, or answers
        dims = tuple(call.shape[i] for i in range(call.dims.value))
        # copy out of the booster's per-thread buffer, which the next prediction overwrites
        buffer = (ctypes.c_float * math.prod(dims)).from_address(ctypes.addressof(call.out.contents))
        return np.frombuffer(buffer, _FLOAT32).reshape(dims).copy()

    def _wrapped(self, matrix: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
        return np.asarray(self.booster.inplace_predict(matrix), dtype=np.float32)
