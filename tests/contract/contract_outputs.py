"""Comparing what two runs of a job left behind, file by file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import matplotlib.image
import numpy as np
from contract_jobs import files_below

from ml_code import contract

#: Where two runs may differ, and why: the interpreter and library versions a file records.
#: - PNG plots: matplotlib writes its version into the PNG's "Software" text chunk (3.9.2 in
#:   the image, 3.9.4 offline); the pixels are compared instead.
#: - model-meta.json: its ``library_versions`` section records Python and numpy (3.10.13 /
#:   2.1.0 in the image, 3.11 / 2.1.3 offline); everything else in it is compared.
VERSIONED_META = "library_versions"


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(matplotlib.image.imread(io.BytesIO(data), format="png"))


def differences(left_dir: Path, right_dir: Path) -> list[str]:
    """What differs between the two folders beyond the recorded versions (empty: the same)."""
    left, right = files_below(left_dir), files_below(right_dir)
    found = [f"only on one side: {sorted(set(left) ^ set(right))}"] if set(left) != set(right) else []
    for name in sorted(set(left) & set(right)):
        a, b = left[name], right[name]
        if a == b:
            continue
        if name.endswith(".png") and np.array_equal(_pixels(a), _pixels(b)):
            continue
        if name.endswith(contract.MODEL_META_FILE):
            meta_a, meta_b = json.loads(a), json.loads(b)
            meta_a.pop(VERSIONED_META, None)
            meta_b.pop(VERSIONED_META, None)
            if meta_a == meta_b:
                continue
        found.append(f"{name} differs")
    return found
