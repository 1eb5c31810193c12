"""One environment's config, the whole app's, and :func:`load_config`, which builds them from context.

Context layout (``cdk.json``)::

    "env": "dev",                       # default; override with -c env=NAME
    "project": {"name": "...", "tags": {...}},
    "environments": {"dev": {...}, "staging": {...}, "prod": {...}}

A ``null`` setting means "not set" (the default), as an omitted key does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Self

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic.dataclasses import dataclass

from contracts.config.base import (
    ACCOUNT_RE,
    INTERNAL,
    REGION_RE,
    SECTION,
    ConfigError,
    SettingError,
    Tags,
    check,
    loading,
    text,
    validate,
)
from contracts.config.batch import BatchConfig, check_instance_type
from contracts.config.endpoint_modes import cross_account_rules
from contracts.config.monitoring import MonitoringConfig
from contracts.config.overrides import use_case_sections
from contracts.config.platform import (
    InstanceConfig,
    NetworkConfig,
    PipelineConfig,
    RetentionConfig,
    StudioConfig,
)
from contracts.config.release import STAGES, DeliveryConfig, Endpoints, StageConfig
from contracts.config.stages import approved_stages, own_stages
from contracts.config.tracking import TrackingConfig
from contracts.config.use_cases import (
    UseCase,
    UseCaseConfig,
    resolve_use_cases,
)

_NAME: Final = r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$"


@dataclass(frozen=True, kw_only=True, config=SECTION)
class EnvironmentConfig:
    """One deployment environment (stage) of the project."""

    name: str
    #: The tooling account and region: the network, data, Studio, training pipeline, registry and
    #: delivery pipelines live there, and so does every endpoint stage that names no account of its
    #: own. None: whatever account and region the deploying credentials have (env-agnostic).
    account: Annotated[str | None, text(ACCOUNT_RE, "a 12-digit AWS account ID")] = None
    region: Annotated[str | None, text(REGION_RE, "an AWS region such as eu-west-1")] = None
    #: The AWS Organization every account of the environment belongs to: cross-account grants then
    #: also require ``aws:PrincipalOrgID`` (defence in depth beside the account and role names).
    organization_id: Annotated[str | None, text(r"^o-[a-z0-9]{10,32}$", "an organization ID (o-...)")] = None
    #: The qualifier the stage accounts were bootstrapped with (``cdk bootstrap --qualifier``); the
    #: deploy builds assume those accounts' ``cdk-<qualifier>-deploy-role-...`` roles.
    bootstrap_qualifier: Annotated[str, text(r"^[A-Za-z0-9]{1,10}$", "1 to 10 letters or digits")] = (
        "hnb659fds"
    )
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    studio: StudioConfig = Field(default_factory=StudioConfig)
    instances: InstanceConfig = Field(default_factory=InstanceConfig)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    #: Endpoint stages; iterating gives them in rollout order (staging, prod).
    endpoints: Endpoints
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    #: The managed MLflow tracking server (:mod:`contracts.config.tracking`); off by default.
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    batch: BatchConfig = Field(default_factory=BatchConfig)  # contracts/config/batch.py; off by default
    tags: Tags = Field(default_factory=dict)
    #: The use cases beside the project's own, and the project's own settings under its name
    #: (:mod:`contracts.config.use_cases`; the keys are checked by :func:`load_config`).
    use_cases: dict[str, UseCaseConfig] = Field(default_factory=dict)

    def stage(self, name: str) -> StageConfig:
        """The endpoint stage called ``name``."""
        return next(s for s in self.endpoints if s.name == name)

    def stage_account(self, stage: StageConfig) -> str | None:
        """The account ``stage``'s endpoint runs in (None: the deploying credentials' account)."""
        return stage.account or self.account

    @property
    def cross_account_stages(self) -> dict[str, str]:
        """Stage name -> account, for the stages whose endpoint runs outside the tooling account."""
        return {
            stage.name: stage.account
            for stage in self.endpoints
            if stage.account is not None and stage.account != self.account
        }

    @model_validator(mode="after")
    def _stage_accounts(self, info: ValidationInfo) -> Self:
        """A stage in another account needs the tooling account named (grants name both sides)."""
        if not loading(info):
            return self
        for stage in self.endpoints:
            if stage.account is not None and self.account is None:
                raise SettingError(
                    "account",
                    f"is required when endpoints.{stage.name}.account is set: the registry, bucket and key "
                    "policies and the stage's trust in the deploy pipeline name the tooling account",
                )
            if stage.region is not None and stage.region != self.region:
                own = self.region or "environments.<env>.region is unset"
                raise SettingError(
                    f"endpoints.{stage.name}.region",
                    f"must be the environment's region ({own}): "
                    "a stage in another region is not supported (the model package group, the data key and "
                    "the model's image are regional)",
                )
        return self

    @field_validator("endpoints", mode="before")
    @classmethod
    def _stage_defaults(cls, endpoints: Any, info: ValidationInfo) -> Any:
        """Every stage exists and knows its name; instance type and model file default per environment."""
        if not isinstance(endpoints, dict):
            return endpoints
        instances = info.data.get("instances", InstanceConfig())
        stages = dict(endpoints)
        for stage in STAGES:
            raw = stages.get(stage, {})
            for key in INTERNAL:
                if isinstance(raw, dict) and key in raw:
                    raise SettingError(f"{stage}.{key}", "is not a known setting")
            defaults = {
                "instanceType": instances.endpoint,
                "modelFile": f".build/release/{info.data['name']}-{stage}.json",
            }
            stages[stage] = {**defaults, **raw, "name": stage} if isinstance(raw, dict) else raw
        return stages

    @model_validator(mode="after")
    def _batch_instance_and_stage_modes(self, info: ValidationInfo) -> Self:
        check_instance_type(self.batch, self.instances.allowed, loading=loading(info))
        for stage in self.endpoints if loading(info) else ():
            cross_account_rules(stage, self.account)
        return self

    @model_validator(mode="after")
    def _capture_outlives_lookback(self, info: ValidationInfo) -> Self:
        days, hours = self.retention.capture_days, self.monitoring.lookback_hours
        if loading(info) and hours > days * 24:
            raise SettingError(
                "retention.captureDays",
                f"{days} days expire capture the drift check still reads "
                f"(monitoring.lookbackHours is {hours})",
            )
        return self


@dataclass(frozen=True, kw_only=True, config=SECTION)
class ProjectConfig:
    """The ``project`` key: the name every resource name starts with, and tags for everything."""

    name: Annotated[
        str, text(_NAME, "a lowercase name of 3-32 letters, digits and hyphens, starting with a letter")
    ]
    tags: Tags = Field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, config=SECTION)
class _Context:
    project: ProjectConfig
    environments: Annotated[
        dict[Annotated[str, text(_NAME, "an environment name: lowercase letters, digits and hyphens")], Any],
        check("at least one environment", bool),
    ]
    env: str | None = None


@dataclass(frozen=True, kw_only=True)
class AppConfig:
    """The project plus the one environment this synth is for."""

    project_name: str
    env: EnvironmentConfig
    tags: Mapping[str, str]
    #: The environment's use cases, the primary (the project's own) first.
    use_cases: tuple[UseCase, ...] = ()

    @property
    def prefix(self) -> str:
        """``<project>-<env>``: the stem of stack and resource names."""
        return f"{self.project_name}-{self.env.name}"

    @property
    def all_tags(self) -> Mapping[str, str]:
        """Project tags overlaid with environment tags, plus Project/Environment."""
        return {"Project": self.project_name, "Environment": self.env.name, **self.tags, **self.env.tags}


def load_config(
    context: Mapping[str, Any], env_name: str | None = None, *, project_root: Path | None = None
) -> AppConfig:
    """Build the typed config for one environment from CDK context.

    ``context``: the CDK context values (``cdk.json`` merged with ``-c`` flags; other keys are
    ignored); ``env_name``: default the context key ``env``; ``project_root``: where the stages'
    approved-model files are read from (None, for tests and tools: no stage has an approved model).

    Raises:
        ConfigError: a key is missing or invalid; each line names one and what it accepts.
    """
    top = validate(_Context, {k: v for k, v in context.items() if k in ("env", "project", "environments")})
    chosen = env_name if env_name is not None else top.env
    if chosen is None or chosen not in top.environments:
        got, known = "nothing" if chosen is None else repr(chosen), ", ".join(sorted(top.environments))
        raise ConfigError(f"context key 'env': expected one of {known}, got {got}")
    raw = top.environments[chosen]
    if isinstance(raw, dict):  # (else validate names what it is)
        if "name" in raw:
            raise ConfigError(f"context key 'environments.{chosen}.name' is not a known setting")
        raw = {**raw, "name": chosen, "endpoints": {} if raw.get("endpoints") is None else raw["endpoints"]}
    env = validate(EnvironmentConfig, raw, ("environments", chosen))
    if project_root is not None:
        env = dataclasses.replace(env, endpoints=approved_stages(env.endpoints, env.name, project_root))
    use_cases = tuple(
        case if case.primary else _additional(case, env, project_root)
        for case in resolve_use_cases(top.project.name, env)
    )
    return AppConfig(project_name=top.project.name, env=env, tags=top.project.tags, use_cases=use_cases)


def _additional(case: UseCase, env: EnvironmentConfig, root: Path | None) -> UseCase:
    """An additional use case with its own stages and its sections (the environment's, overridden)."""
    entry = env.use_cases[case.name]
    overrides = {"pipeline": entry.pipeline, "instances": entry.instances, "monitoring": entry.monitoring}
    sections = use_case_sections(env, case.name, overrides)
    return dataclasses.replace(own_stages(case, env.endpoints, env.name, root), sections=sections)
