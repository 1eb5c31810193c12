"""The Lambda functions' staged asset: every handler imports from it alone, as Lambda would load it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stacks.monitoring.function_asset import FUNCTIONS_DIR, asset_files, stage_functions

HANDLERS = sorted(path.stem for path in FUNCTIONS_DIR.glob("*.py") if path.stem != "__init__")


def _import_alone(folder: Path, modules: list[str]) -> subprocess.CompletedProcess[str]:
    """Import ``modules`` in a fresh interpreter whose only code of ours is ``folder``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONDONTWRITEBYTECODE": "1"}
    script = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    return subprocess.run(
        [sys.executable, "-c", script, *modules],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_handler_imports_from_the_staged_asset_alone(tmp_path: Path) -> None:
    # GIVEN the asset folder staged as synth stages it
    folder = stage_functions(tmp_path / "functions")
    assert "retrain_trigger" in HANDLERS
    # WHEN each handler module is imported with only that folder of our code on the path
    result = _import_alone(folder, HANDLERS)
    # THEN all import (contracts.names travels with them), and nothing else of ours is there
    assert result.returncode == 0, result.stderr
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.py")) == sorted(asset_files())


def test_a_handler_whose_contract_is_missing_fails_to_import(tmp_path: Path) -> None:
    # GIVEN the asset without contracts/names.py (what shipping functions/ alone would be)
    files = {k: v for k, v in asset_files().items() if k != "contracts/names.py"}
    folder = stage_functions(tmp_path / "functions", files)
    # WHEN the retraining trigger is imported THEN it fails: the check above can fail
    result = _import_alone(folder, ["retrain_trigger"])
    assert result.returncode != 0
    assert "contracts.names" in result.stderr


def test_staging_again_drops_what_is_no_longer_shipped(tmp_path: Path) -> None:
    folder = stage_functions(tmp_path / "functions", {**asset_files(), "old_function.py": b"x = 1\n"})
    assert (folder / "old_function.py").is_file()
    stage_functions(folder)
    assert not (folder / "old_function.py").exists()
    assert (folder / "contracts" / "names.py").read_bytes() == asset_files()["contracts/names.py"]
