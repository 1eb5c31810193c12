"""ml_code runs on the image's Python 3.10: every module compiles and imports there, and type-checks
against 3.10's standard library (ruff's py310 target checks syntax only)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from contract_jobs import REPO

pytestmark = pytest.mark.contract

#: Modules that run only on a developer's machine, never in the image, and what they need
#: that the image does not have.
LOCAL_ONLY = {  # `make serve`: the server, its sockets, its protocol and its shadow variant
    f"ml_code.serving.{name}": "No module named 'uvicorn'"
    for name in ("listeners", "one_send", "serve", "shadow", "uvicorn_app")
}

_IMPORT_ALL = """
import importlib, json, pathlib, pkgutil, sys
import ml_code
failures = {}
for source in sorted(pathlib.Path(ml_code.__path__[0]).rglob("*.py")):
    compile(source.read_text(encoding="utf-8"), str(source), "exec")  # every file, local-only too
for info in pkgutil.walk_packages(ml_code.__path__, "ml_code."):
    try:
        importlib.import_module(info.name)
    except Exception as exc:
        failures[info.name] = str(exc)
print(json.dumps({"version": sys.version_info[:2], "package": ml_code.__file__, "failures": failures}))
"""


def test_every_ml_code_module_compiles_and_imports_under_the_images_python(contract_python: Path) -> None:
    result = subprocess.run(
        [str(contract_python), "-c", _IMPORT_ALL],
        cwd=REPO,
        env={"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["version"] == [3, 10]
    assert Path(found["package"]).parent == REPO / "ml_code"
    assert found["failures"] == LOCAL_ONLY


def test_ml_code_type_checks_against_the_python_310_standard_library() -> None:
    # mypy knows which stdlib names 3.10 lacks (datetime.UTC, typing.Self, ...), which ruff does not
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--python-version", "3.10", "ml_code"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
