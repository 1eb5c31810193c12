"""Typed configuration: the one place CDK context becomes values.

`app.py` reads the context once and hands it to :func:`load_config`, which returns
frozen dataclasses or raises :class:`ConfigError` naming the offending key and what
it accepts. Stacks and constructs only ever receive these objects.

Context layout (``cdk.json``)::

    "env": "dev",                       # default; override with -c env=NAME
    "project": {"name": "...", "tags": {...}},
    "environments": {"dev": {...}, "staging": {...}, "prod": {...}}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, Literal, cast

from stacks.config_reader import MISSING, ConfigError, Reader, check, show
from stacks.config_release import (
    DeliveryConfig,
    MonitoringConfig,
    StageConfig,
    read_delivery,
    read_endpoints,
    read_monitoring,
)

#: Studio personas. ``approver`` may approve or reject model versions and nothing else of note;
#: the two builder personas may register versions but never approve them (no self-approval).
Persona = Literal["data_scientist", "ml_engineer", "approver"]
PERSONAS: Final[tuple[str, ...]] = ("data_scientist", "ml_engineer", "approver")
NetworkMode = Literal["create", "existing"]

#: Interface endpoints VpcOnly Studio and SageMaker jobs need, by short name.
#: The value is the AWS service suffix (com.amazonaws.REGION.<suffix>).
INTERFACE_ENDPOINTS: Final[Mapping[str, str]] = {
    "sagemaker_api": "sagemaker.api",
    "sagemaker_runtime": "sagemaker.runtime",
    "sagemaker_studio": "studio",
    "sagemaker_notebook": "notebook",
    "sts": "sts",
    "logs": "logs",
    "monitoring": "monitoring",
    "ecr_api": "ecr.api",
    "ecr_docker": "ecr.dkr",
    "kms": "kms",
    "ssm": "ssm",
    "events": "events",
    "codeartifact_api": "codeartifact.api",
    "codeartifact_repositories": "codeartifact.repositories",
}
#: The interface endpoints created when config does not name a list.
DEFAULT_INTERFACE_ENDPOINTS: Final[tuple[str, ...]] = (
    "sagemaker_api",
    "sagemaker_runtime",
    "sagemaker_studio",
    "sagemaker_notebook",
    "sts",
    "logs",
    "monitoring",
    "ecr_api",
    "ecr_docker",
    "kms",
)

#: Studio app instance types when config names none: the small general-purpose ones.
STUDIO_INSTANCE_TYPES: Final[tuple[str, ...]] = ("ml.m5.large", "ml.t3.large", "ml.t3.medium")

_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")
_USER_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_INSTANCE_RE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_CIDR_RE = re.compile(r"^(\d{1,3}\.){3}\d{1,3}/(1[6-9]|2[0-8])$")
_VPC_RE = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_SUBNET_RE = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_SG_RE = re.compile(r"^sg-[0-9a-f]{8,17}$")


@dataclass(frozen=True, kw_only=True)
class NetworkConfig:
    """Where SageMaker runs: a VPC we create, or one that already exists."""

    mode: NetworkMode
    cidr: str
    max_azs: int
    interface_endpoints: tuple[str, ...]
    flow_log_retention_days: int
    vpc_id: str | None = None
    subnet_ids: tuple[str, ...] = ()
    availability_zones: tuple[str, ...] = ()
    security_group_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class StudioUser:
    """One Studio user profile and the persona (execution role) it gets."""

    name: str
    persona: Persona


@dataclass(frozen=True, kw_only=True)
class StudioConfig:
    """Studio domain settings."""

    idle_timeout_minutes: int
    users: tuple[StudioUser, ...]
    #: Instance types Studio apps (JupyterLab, Code Editor) may run on (``sagemaker:InstanceTypes``).
    instance_types: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class InstanceConfig:
    """Instance types for each kind of SageMaker work, and the allowlist every job is held to."""

    processing: str
    training: str
    endpoint: str
    #: Instance types that roles may start jobs and ad-hoc endpoints on (``sagemaker:InstanceTypes``).
    allowed: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class RetentionConfig:
    """How long (days) the bucket keeps what is not a registered model or a deployed baseline."""

    #: Captured endpoint traffic (``data-capture/``).
    capture_days: int
    #: Drift-check working files and reports (``drift-checks/``).
    drift_check_days: int
    #: Intermediate pipeline outputs: train/validation splits, training checkpoints.
    intermediate_days: int


@dataclass(frozen=True, kw_only=True)
class PipelineConfig:
    """Training pipeline defaults (each is also a pipeline parameter)."""

    quality_threshold: float
    champion_margin: float
    use_spot: bool
    max_runtime_seconds: int


@dataclass(frozen=True, kw_only=True)
class EnvironmentConfig:
    """One deployment environment (stage) of the project."""

    name: str
    account: str | None
    region: str | None
    network: NetworkConfig
    studio: StudioConfig
    instances: InstanceConfig
    pipeline: PipelineConfig
    delivery: DeliveryConfig
    #: Endpoint stages in rollout order (staging, prod).
    endpoints: tuple[StageConfig, ...]
    monitoring: MonitoringConfig
    retention: RetentionConfig
    tags: Mapping[str, str]

    def stage(self, name: str) -> StageConfig:
        """The endpoint stage called ``name``."""
        return next(s for s in self.endpoints if s.name == name)


@dataclass(frozen=True, kw_only=True)
class AppConfig:
    """The project plus the one environment this synth is for."""

    project_name: str
    env: EnvironmentConfig
    tags: Mapping[str, str]

    @property
    def prefix(self) -> str:
        """``<project>-<env>``: the stem of stack and resource names."""
        return f"{self.project_name}-{self.env.name}"

    @property
    def all_tags(self) -> Mapping[str, str]:
        """Project tags overlaid with environment tags, plus Project/Environment."""
        merged = {"Project": self.project_name, "Environment": self.env.name}
        merged.update(self.tags)
        merged.update(self.env.tags)
        return merged


# --------------------------------------------------------------------------- sections


def _network(r: Reader) -> NetworkConfig:
    r.reject_unknown(
        (
            "mode",
            "cidr",
            "maxAzs",
            "interfaceEndpoints",
            "flowLogRetentionDays",
            "vpcId",
            "subnetIds",
            "availabilityZones",
            "securityGroupId",
        )
    )
    mode = cast(NetworkMode, r.choice("mode", ("create", "existing"), "create"))
    endpoints = []
    for key, name in r.items("interfaceEndpoints", list(DEFAULT_INTERFACE_ENDPOINTS)):
        if name not in INTERFACE_ENDPOINTS:
            raise ConfigError(
                f"context key '{key}': expected one of {', '.join(INTERFACE_ENDPOINTS)}, got {show(name)}"
            )
        endpoints.append(name)
    retention = r.integer("flowLogRetentionDays", 1, 3653, 365)
    if retention not in _LOG_RETENTION_DAYS:
        raise ConfigError(
            f"context key '{r.key('flowLogRetentionDays')}': expected one of "
            f"{', '.join(map(str, _LOG_RETENTION_DAYS))}, got {retention}"
        )
    created = NetworkConfig(
        mode=mode,
        # An existing VPC's CIDR drives security-group rules, so it must be stated, not assumed.
        cidr=r.string(
            "cidr", _CIDR_RE, "an IPv4 CIDR from /16 to /28", "10.42.0.0/16" if mode == "create" else MISSING
        ),
        max_azs=r.integer("maxAzs", 2, 6, 2),
        interface_endpoints=tuple(sorted(set(endpoints))),
        flow_log_retention_days=retention,
    )
    if mode == "create":
        return created
    subnets = tuple(
        check(key, value, _SUBNET_RE, "a subnet ID (subnet-...)") for key, value in r.items("subnetIds")
    )
    azs = tuple(
        check(key, value, re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$"), "an availability zone name")
        for key, value in r.items("availabilityZones")
    )
    if len(subnets) < 2 or len(azs) != len(subnets):
        raise ConfigError(
            f"context key '{r.key('subnetIds')}': an existing network needs at least 2 private subnets "
            f"in different AZs, with '{r.key('availabilityZones')}' naming the AZ of each"
        )
    if len(set(azs)) < 2:
        raise ConfigError(f"context key '{r.key('availabilityZones')}': subnets must span at least 2 AZs")
    return replace(
        created,
        vpc_id=r.string("vpcId", _VPC_RE, "a VPC ID (vpc-...)"),
        subnet_ids=subnets,
        availability_zones=azs,
        security_group_id=r.optional_string("securityGroupId", _SG_RE, "a security group ID (sg-...)"),
    )


_LOG_RETENTION_DAYS: Final[tuple[int, ...]] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


def _studio(r: Reader) -> StudioConfig:
    r.reject_unknown(("idleTimeoutMinutes", "users", "instanceTypes"))
    users: list[StudioUser] = []
    for key, item in r.items("users", []):
        u = Reader(item, key)
        u.reject_unknown(("name", "persona"))
        users.append(
            StudioUser(
                name=u.string("name", _USER_RE, "a user profile name (letters, digits, hyphens; up to 63)"),
                persona=cast(Persona, u.choice("persona", PERSONAS)),
            )
        )
    names = [u.name for u in users]
    if len(set(names)) != len(names):
        raise ConfigError(f"context key '{r.key('users')}': user names must be unique, got {names}")
    hint = "a SageMaker instance type such as ml.t3.medium"
    types = tuple(
        sorted(
            {
                check(key, value, _INSTANCE_RE, hint)
                for key, value in r.items("instanceTypes", list(STUDIO_INSTANCE_TYPES))
            }
        )
    )
    if not types:
        raise ConfigError(f"context key '{r.key('instanceTypes')}': list at least one instance type")
    return StudioConfig(
        idle_timeout_minutes=r.integer("idleTimeoutMinutes", 60, 525600, 120),
        users=tuple(users),
        instance_types=types,
    )


def _instances(r: Reader) -> InstanceConfig:
    r.reject_unknown(("processing", "training", "endpoint", "allowed"))
    hint = "a SageMaker instance type such as ml.m5.large"
    chosen = {
        "processing": r.string("processing", _INSTANCE_RE, hint, "ml.m5.large"),
        "training": r.string("training", _INSTANCE_RE, hint, "ml.m5.xlarge"),
        "endpoint": r.string("endpoint", _INSTANCE_RE, hint, "ml.m5.large"),
    }
    # Default allowlist: exactly the types configured above, so nothing else can be started.
    allowed = tuple(
        sorted(
            {
                check(key, value, _INSTANCE_RE, hint)
                for key, value in r.items("allowed", sorted(set(chosen.values())))
            }
        )
    )
    if not allowed:
        raise ConfigError(f"context key '{r.key('allowed')}': list at least one instance type")
    for name, value in chosen.items():
        if value not in allowed:
            raise ConfigError(
                f"context key '{r.key(name)}': {value} is not in '{r.key('allowed')}' ({', '.join(allowed)})"
            )
    return InstanceConfig(**chosen, allowed=allowed)


def _retention(r: Reader) -> RetentionConfig:
    r.reject_unknown(("captureDays", "driftCheckDays", "intermediateDays"))
    return RetentionConfig(
        capture_days=r.integer("captureDays", 1, 3653, 90),
        drift_check_days=r.integer("driftCheckDays", 1, 3653, 30),
        intermediate_days=r.integer("intermediateDays", 1, 3653, 30),
    )


def _pipeline(r: Reader) -> PipelineConfig:
    r.reject_unknown(("qualityThreshold", "championMargin", "useSpot", "maxRuntimeSeconds"))
    return PipelineConfig(
        quality_threshold=r.number("qualityThreshold", 0.0, 1.0, 0.7),
        champion_margin=r.number("championMargin", 0.0, 1.0, 0.01),
        use_spot=r.boolean("useSpot", False),
        max_runtime_seconds=r.integer("maxRuntimeSeconds", 60, 432000, 3600),
    )


def _environment(name: str, r: Reader, root: Path | None) -> EnvironmentConfig:
    r.reject_unknown(
        (
            "account",
            "region",
            "network",
            "studio",
            "instances",
            "pipeline",
            "delivery",
            "endpoints",
            "monitoring",
            "retention",
            "tags",
        )
    )
    instances = _instances(r.child("instances", {}))
    monitoring = read_monitoring(r.child("monitoring", {}))
    retention = _retention(r.child("retention", {}))
    if monitoring.lookback_hours > retention.capture_days * 24:
        raise ConfigError(
            f"context key '{r.key('retention')}.captureDays': {retention.capture_days} days expire capture "
            f"the drift check still reads (monitoring.lookbackHours is {monitoring.lookback_hours})"
        )
    return EnvironmentConfig(
        name=name,
        account=r.optional_string("account", _ACCOUNT_RE, "a 12-digit AWS account ID"),
        region=r.optional_string("region", _REGION_RE, "an AWS region such as eu-west-1"),
        network=_network(r.child("network", {})),
        studio=_studio(r.child("studio", {})),
        instances=instances,
        pipeline=_pipeline(r.child("pipeline", {})),
        delivery=read_delivery(r.child("delivery", {})),
        endpoints=read_endpoints(
            r.child("endpoints", {}), env_name=name, default_instance_type=instances.endpoint, root=root
        ),
        monitoring=monitoring,
        retention=retention,
        tags=r.tags("tags"),
    )


def load_config(
    context: Mapping[str, Any], env_name: str | None = None, *, project_root: Path | None = None
) -> AppConfig:
    """Build the typed config for one environment from CDK context.

    Args:
        context: the CDK context values (``cdk.json`` merged with ``-c`` flags).
        env_name: the environment to load; defaults to the context key ``env``.
        project_root: where endpoint stages' approved-model files are read from. None (tests,
            tools) reads none, so no endpoint stage has an approved model.

    Returns:
        The frozen :class:`AppConfig`.

    Raises:
        ConfigError: a key is missing or invalid; the message names it and what it accepts.
    """
    root = Reader(context, "")
    project = root.child("project")
    project.reject_unknown(("name", "tags"))
    project_name = project.string(
        "name", _NAME_RE, "a lowercase name of 3-32 letters, digits and hyphens, starting with a letter"
    )
    environments = root.child("environments")
    names = tuple(sorted(environments._data))
    if not names:
        raise ConfigError("context key 'environments': define at least one environment")
    for env in names:
        if not _NAME_RE.match(env):
            raise ConfigError(
                f"context key 'environments.{env}': environment names are lowercase letters, "
                "digits and hyphens"
            )
    chosen = env_name if env_name is not None else root.raw("env", MISSING)
    if chosen not in names:
        raise ConfigError(f"context key 'env': expected one of {', '.join(names)}, got {show(chosen)}")
    return AppConfig(
        project_name=project_name,
        env=_environment(cast(str, chosen), environments.child(cast(str, chosen)), project_root),
        tags=project.tags("tags"),
    )
