"""What an additional use case overrides of its environment: ``pipeline``, ``instances``, ``monitoring``.

``useCases.<name>.pipeline`` (and ``instances``, ``monitoring``) name only the keys that differ, e.g.
``{"qualityThreshold": 0.8}`` or ``{"notificationEmails": ["fraud-team@example.com"]}``: each section
is the environment's with those keys replaced, validated like the environment's own, so a bad value
names its key under the use case (``environments.dev.useCases.fraud.pipeline.qualityThreshold``).
The budget is the environment's (it counts every use case), so ``monitoring.budget`` is refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Final, Protocol

from pydantic import TypeAdapter

from contracts.config.base import ConfigError, validate
from contracts.config.monitoring import MonitoringConfig
from contracts.config.platform import InstanceConfig, PipelineConfig

#: The environment sections a use case may override, key by key.
OVERRIDABLE: Final = ("pipeline", "instances", "monitoring")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Sections:
    """A use case's sections: the environment's, with its overrides."""

    pipeline: PipelineConfig
    instances: InstanceConfig
    monitoring: MonitoringConfig


class _Environment(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def pipeline(self) -> PipelineConfig: ...

    @property
    def instances(self) -> InstanceConfig: ...

    @property
    def monitoring(self) -> MonitoringConfig: ...


def use_case_sections(
    env: _Environment, name: str, overrides: Mapping[str, Mapping[str, Any] | None]
) -> Sections:
    """``env``'s sections with the keys ``overrides`` (section -> keys) names replaced.

    Raises:
        ConfigError: a replaced value is invalid, or the budget is overridden (names the key).
    """
    at = ("environments", env.name, "useCases", name)
    sections: dict[str, Any] = {}
    for section in OVERRIDABLE:
        base, raw = getattr(env, section), overrides.get(section)
        if raw is None:
            sections[section] = base
            continue
        if section == "monitoring" and "budget" in raw:
            raise ConfigError(
                f"context key '{'.'.join(at)}.monitoring.budget': the budget is the environment's (it counts "
                f"every use case's spend); set environments.{env.name}.monitoring.budget"
            )
        current = TypeAdapter(type(base)).dump_python(base, by_alias=True, mode="json")
        sections[section] = validate(type(base), {**current, **raw}, (*at, section))
    return Sections(**sections)
