"""The data fingerprint Preprocess writes into its baseline output (``contract.DATA_FINGERPRINT_FILE``)
for the Track step: the rows a model version was trained and tested on, in one content hash.

The profile sums every labelled row's 64-bit hash (:mod:`row_hash`, keyed by the split seed) mod
2**64, so the sum is the same whatever the order of rows and files, the chunk size or the number of
hosts. The fingerprint is the SHA-256 of that sum with the header, the seed and the row counts: the
same rows with the same header and seed give the same fingerprint; any changed, added or removed
labelled row changes it (up to a 2**-64 chance), and so does a changed count of unlabelled rows.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ml_code import contract
from ml_code.steps.profile import Profile


def fingerprint(profile: Profile) -> dict[str, Any]:
    """``{"fingerprint": <sha256 hex>, "rows", "read", "unlabelled", "columns", "seed", "row_hash_sum"}``."""
    content = {
        "rows": profile.read - profile.unlabelled,  # labelled rows, whether or not placed yet
        "read": profile.read,
        "unlabelled": profile.unlabelled,
        "columns": list(profile.settings.columns),
        "seed": profile.settings.seed,
        "row_hash_sum": f"{profile.fingerprint:016x}",
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()
    return {"fingerprint": digest, **content}


def write_fingerprint(folder: Path, profile: Profile) -> Path:
    """Write :func:`fingerprint` of ``profile`` into ``folder``; returns the file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / contract.DATA_FINGERPRINT_FILE
    path.write_text(json.dumps(fingerprint(profile), indent=2), encoding="utf-8")
    return path
