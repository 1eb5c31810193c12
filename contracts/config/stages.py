"""An additional use case's endpoint stages: the environment's, with its own approved-model files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from contracts.approved_model import ApprovedModel, ApprovedModelError
from contracts.config.base import ConfigError
from contracts.config.release import Endpoints
from contracts.config.use_cases import UseCase


def own_stages(case: UseCase, endpoints: Endpoints, env_name: str, root: Path | None) -> UseCase:
    """An additional use case with its own stages: the environment's ``endpoints`` with its own
    model files (and the approved models they hold, when ``root`` is given)."""
    renamed = {
        stage.name: dataclasses.replace(
            stage, model_file=case.model_file(env_name, stage.name, stage.model_file)
        )
        for stage in endpoints
    }
    stages = dataclasses.replace(endpoints, **renamed)
    if root is not None:
        stages = approved_stages(stages, env_name, root)
    return dataclasses.replace(case, stages=stages)


def approved_stages(endpoints: Endpoints, env_name: str, root: Path) -> Endpoints:
    """The stages, each with the approved model its file holds (None: no file yet).

    Raises:
        ConfigError: a model file is not a valid approved-model file (names the stage's key).
    """
    stages = {}
    for stage in endpoints:
        if (root / stage.model_file).is_file():
            try:
                stages[stage.name] = dataclasses.replace(
                    stage, approved_model=ApprovedModel.read(root / stage.model_file)
                )
            except ApprovedModelError as exc:
                key = f"environments.{env_name}.endpoints.{stage.name}.modelFile"
                raise ConfigError(f"context key '{key}': {exc}") from exc
    return dataclasses.replace(endpoints, **stages)
