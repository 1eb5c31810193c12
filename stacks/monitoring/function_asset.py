"""The Lambda functions' asset folder, staged at synth: ``functions/*.py`` plus the contracts they import.

Lambda runs a handler with its asset's root on the import path and nothing else of ours, so the
``contracts`` modules the handlers import (:data:`CONTRACT_MODULES`, standard library only) are
copied in beside them as the ``contracts`` package; handlers keep their names
(``retrain_trigger.handler``). ``tests/unit/test_function_asset.py`` imports every handler from
the staged folder alone. A file is written only when its bytes change, each atomically, so
parallel synths agree, and the CDK asset hash depends on the files' contents only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

_ROOT: Final = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR: Final = _ROOT / "functions"
CONTRACTS_DIR: Final = _ROOT / "contracts"
#: Where the folder is staged (gitignored ``.build``; ``make clean`` empties it).
DEFAULT_ASSET_DIR: Final = _ROOT / ".build" / "functions"
#: The modules of ``contracts`` the handlers import (and the package's ``__init__``).
CONTRACT_MODULES: Final = ("__init__.py", "names.py")
#: What the asset leaves out of the staged folder (bytecode, a parallel synth's temporary files).
EXCLUDE: Final = ["__pycache__", "*.pyc", ".*"]


def asset_files(functions_dir: Path = FUNCTIONS_DIR, contracts_dir: Path = CONTRACTS_DIR) -> dict[str, bytes]:
    """The asset's files: relative path -> bytes (every ``*.py`` of ``functions_dir``, the contracts)."""
    files = {path.name: path.read_bytes() for path in sorted(functions_dir.glob("*.py"))}
    for name in CONTRACT_MODULES:
        files[f"contracts/{name}"] = (contracts_dir / name).read_bytes()
    return files


def stage_functions(out_dir: Path = DEFAULT_ASSET_DIR, files: dict[str, bytes] | None = None) -> Path:
    """Write :func:`asset_files` (or ``files``) under ``out_dir``, drop other ``*.py``; return ``out_dir``."""
    wanted = asset_files() if files is None else files
    for relative, data in wanted.items():
        target = out_dir / relative
        if target.is_file() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        temp.write_bytes(data)
        temp.replace(target)
    for stale in out_dir.rglob("*.py"):  # a function or contract no longer shipped
        if stale.relative_to(out_dir).as_posix() not in wanted:
            stale.unlink(missing_ok=True)
    return out_dir
