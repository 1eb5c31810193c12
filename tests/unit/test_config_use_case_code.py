"""A use case's own code directory in config (issue 18 point 2): ``useCases.<name>.codeDir``.

Every use case runs the shared ``ml_code/`` unless it names a directory of its own; the project's
own use case always runs ``ml_code/``. A value that could leave the repository, name a file or sit
inside ``ml_code/`` is refused, naming the key.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from contracts.config import ConfigError, load_config
from contracts.config.use_cases import DEFAULT_CODE_DIR

CONTEXT = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]
PROJECT = CONTEXT["project"]["name"]
FRAUD = {"targetColumn": "is_fraud", "problemType": "binary"}
KEY = "context key 'environments.dev.useCases.fraud.codeDir'"


def _context(use_cases: dict[str, Any]) -> dict[str, Any]:
    context = copy.deepcopy({k: CONTEXT[k] for k in ("env", "project", "environments")})
    context["environments"]["dev"]["useCases"] = use_cases
    return context


def test_every_use_case_runs_ml_code_unless_it_names_its_own() -> None:
    config = load_config(_context({"fraud": FRAUD, "demand": {**FRAUD, "codeDir": "use_cases/demand"}}))
    by_name = {case.name: case for case in config.use_cases}
    assert DEFAULT_CODE_DIR == "ml_code"
    assert by_name[PROJECT].code_dir == DEFAULT_CODE_DIR
    assert by_name["fraud"].code_dir == DEFAULT_CODE_DIR
    assert by_name["demand"].code_dir == "use_cases/demand"


@pytest.mark.parametrize(
    "code_dir",
    ["fraud", "use_cases/fraud", "src/fraud_model", "teams/risk/fraud-v2", "ml_code_fraud", "x" * 200],
)
def test_a_relative_directory_of_the_repository_is_accepted(code_dir: str) -> None:
    (_, fraud) = load_config(_context({"fraud": {**FRAUD, "codeDir": code_dir}})).use_cases
    assert fraud.code_dir == code_dir


@pytest.mark.parametrize(
    "code_dir",
    [
        "/abs/fraud",  # absolute
        "../other-repo/fraud",  # leaves the repository
        "use_cases/../ml_code",
        "use_cases/./fraud",
        ".",
        ".hidden/fraud",
        "use_cases/fraud/",  # a directory is named without a trailing /
        "use_cases//fraud",
        "ml_code/fraud",  # inside the primary's package: bundled and triggered with it
        "use cases/fraud",
        "use_cases/*",  # a glob, not a directory
        "fraud\n",
        "",
        "x" * 201,  # its trigger glob <codeDir>/** must fit CodePipeline's 255 characters
        42,
    ],
)
def test_a_code_dir_that_is_not_a_plain_relative_directory_is_refused(code_dir: object) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_context({"fraud": {**FRAUD, "codeDir": code_dir}}))
    assert KEY in str(caught.value)
    assert "a directory of the repository" in str(caught.value)


def test_the_project_s_own_use_case_keeps_ml_code() -> None:
    config = load_config(_context({PROJECT: {**FRAUD, "codeDir": DEFAULT_CODE_DIR}}))
    assert config.use_cases[0].code_dir == DEFAULT_CODE_DIR
    with pytest.raises(ConfigError) as caught:
        load_config(_context({PROJECT: {**FRAUD, "codeDir": "use_cases/churn"}}))
    assert f"context key 'environments.dev.useCases.{PROJECT}.codeDir'" in str(caught.value)
    assert "delivery.source.filePaths" in str(caught.value)
