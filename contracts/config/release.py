"""Delivery (push → pipeline → endpoints) and the endpoint stages.

Sections of one environment in ``cdk.json``::

    "delivery":   {"source": {...}, "retrainSchedule": "rate(7 days)"}
    "endpoints":  {"staging": {...}, "prod": {...}}

Each endpoint stage names the approved-model file the deploy build writes
(:class:`contracts.approved_model.ApprovedModel`); when that file does not exist the stage's
endpoint stack is simply not synthesized (nothing approved yet), everything else still is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Annotated, Any, Final, Literal, Self, get_args

from pydantic import Field, ValidationInfo, model_validator
from pydantic.dataclasses import dataclass

from contracts.approved_model import ApprovedModel
from contracts.config.base import (
    ACCOUNT_RE,
    REGION_RE,
    SECTION,
    InstanceType,
    SettingError,
    check,
    integer,
    loading,
    one_of,
    text,
)
from contracts.config.endpoint_modes import AsyncConfig, ShadowConfig, mode_defaults, mode_rules

#: Endpoint stages, in rollout order. ``prod`` is held to production rules.
STAGES: Final[tuple[str, ...]] = ("staging", "prod")
PRODUCTION_STAGE: Final = "prod"
RolloutMode = Literal["canary", "linear", "all_at_once"]
ROLLOUT_MODES: Final[tuple[str, ...]] = get_args(RolloutMode)
#: Upper bound of ``idleAlarmDays``: CloudWatch evaluates an alarm over at most 7 days
#: (period x evaluation periods <= 604,800 s; see stacks/endpoint/idle_alarm.py).
MAX_IDLE_ALARM_DAYS: Final = 7
#: ``idleAlarmDays`` of an instance-backed stage when not set (serverless stages: 0, off).
DEFAULT_IDLE_ALARM_DAYS: Final = 7

Schedule = Annotated[
    str,
    text(
        r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^()]+\))$",
        "an EventBridge Scheduler rate(...) or cron(...) expression",
    ),
]
_CONNECTION = r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[\w-]+$"
_REPOSITORY = text(r"^[\w.-]+(/[\w.-]+)+$", "owner/name of the repository")


@dataclass(frozen=True, kw_only=True, config=SECTION)
class SourceConfig:
    """Where pushes come from: a CodeConnections repository, or (no connection) an S3 object."""

    connection_arn: Annotated[str | None, text(_CONNECTION, "a CodeConnections connection ARN")] = None
    repository: Annotated[str | None, _REPOSITORY] = None
    branch: Annotated[str, text(r"^[\w./-]{1,255}$", "a branch name")] = "main"
    file_paths: Annotated[
        tuple[Annotated[str, text(r"^[^\s]{1,255}$", "a glob such as ml_code/**")], ...],
        check("at least one path glob", bool),
    ] = ("ml_code/**",)

    @model_validator(mode="after")
    def _repository_of_the_connection(self, info: ValidationInfo) -> Self:
        if loading(info) and self.connection_arn is not None and self.repository is None:
            raise SettingError("repository", "is missing")
        return self


@dataclass(frozen=True, kw_only=True, config=SECTION)
class DeliveryConfig:
    """Push-to-pipeline settings."""

    source: SourceConfig = Field(default_factory=SourceConfig)
    #: EventBridge Scheduler expression that starts the training pipeline, or None (off).
    retrain_schedule: Schedule | None = None


@dataclass(frozen=True, kw_only=True, config=SECTION)
class ServerlessConfig:
    """Serverless inference: no instances, no cost when idle."""

    memory_size_mb: Annotated[
        int, check("1024, 2048, ... 6144", lambda v: type(v) is int and v in range(1024, 6145, 1024))
    ] = 2048
    max_concurrency: Annotated[int, integer(1, 200)] = 5


@dataclass(frozen=True, kw_only=True, config=SECTION)
class AutoscalingConfig:
    """Target tracking on SageMakerVariantInvocationsPerInstance."""

    min_capacity: Annotated[int, integer(1, 100)]
    max_capacity: Annotated[int, integer(1, 100)]
    target_invocations_per_instance: Annotated[int, integer(1, 100000)] = 200


@dataclass(frozen=True, kw_only=True, config=SECTION)
class RolloutConfig:
    """Blue/green deployment guardrails for endpoint updates."""

    mode: Annotated[RolloutMode, one_of(ROLLOUT_MODES)]
    #: Canary size, or linear step size, as a percent of capacity.
    step_percent: Annotated[int, integer(1, 50)] = 10
    wait_minutes: Annotated[int, integer(1, 60)] = 10
    termination_wait_minutes: Annotated[int, integer(0, 60)] = 5


@dataclass(frozen=True, kw_only=True, config=SECTION)
class AlarmConfig:
    """Thresholds of the alarms that roll a deployment back."""

    max_model_latency_ms: Annotated[int, integer(1, 600000)] = 1000
    max_5xx_errors: Annotated[int, integer(0, 100000)] = 0
    evaluation_minutes: Annotated[int, integer(1, 60)] = 2


@dataclass(frozen=True, kw_only=True, config=SECTION)
class SmokeTestConfig:
    """What the post-deploy smoke test sends and accepts."""

    samples: Annotated[int, integer(1, 1000)] = 20
    max_latency_ms: Annotated[int, integer(1, 60000)] = 2000


@dataclass(frozen=True, kw_only=True, config=SECTION)
class StageConfig:
    """One endpoint stage (``staging`` or ``prod``) of an environment."""

    name: str
    #: The AWS account the stage's endpoint runs in; None: the environment's own (tooling) account.
    account: Annotated[str | None, text(ACCOUNT_RE, "a 12-digit AWS account ID")] = None
    #: Its region; None: the environment's. Only the environment's region is supported (below).
    region: Annotated[str | None, text(REGION_RE, "an AWS region such as eu-west-1")] = None
    instance_type: InstanceType
    instance_count: Annotated[int, integer(1, 100)]
    serverless: ServerlessConfig | None = None
    #: Asynchronous inference instead of real-time (key ``async``; :mod:`contracts.config.endpoint_modes`).
    async_inference: AsyncConfig | None = Field(default=None, alias="async")
    #: prod only: a shadow variant for the approved model's ``shadow`` version.
    shadow: ShadowConfig | None = None
    autoscaling: AutoscalingConfig | None = None
    #: Percent of requests captured to the artifact bucket (0 = off; always 0 when serverless).
    data_capture_percent: Annotated[int, integer(0, 100)]
    rollout: RolloutConfig
    alarms: AlarmConfig = Field(default_factory=AlarmConfig)
    smoke_test: SmokeTestConfig = Field(default_factory=SmokeTestConfig)
    #: Alarm (to the alert topic) after this many days without an invocation; 0 = no idle alarm.
    #: Default 7 on instances (they bill every hour), 0 on serverless (idle costs nothing there).
    idle_alarm_days: Annotated[int, integer(0, MAX_IDLE_ALARM_DAYS)]
    #: The approved-model file (relative to the project root) the deploy build writes.
    model_file: Annotated[
        str,
        check(
            "a relative path to a .json file inside the project",
            lambda v: isinstance(v, str) and re.match(r"^[\w./-]+\.json$", v) is not None
            and not v.startswith("/") and ".." not in PurePosixPath(v).parts,
        ),
    ]  # fmt: skip
    #: Its content, or None when the file does not exist yet (stack not synthesized).
    approved_model: ApprovedModel | None = None

    @property
    def is_production(self) -> bool:
        return self.name == PRODUCTION_STAGE

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        """Defaults that depend on the stage: prod runs 2 instances; serverless captures nothing;
        serverless and async have no idle alarm (idle costs nothing, or nothing at minCapacity 0)."""
        if not isinstance(data, dict):
            return data
        serverless = "serverless" in data
        data = {
            "instanceCount": 2 if data.get("name") == PRODUCTION_STAGE else 1,
            "dataCapturePercent": 0 if serverless else 100,
            "idleAlarmDays": 0 if serverless or "async" in data else DEFAULT_IDLE_ALARM_DAYS,
            "rollout": {},
            **data,
        }
        if isinstance(data["rollout"], dict):
            data["rollout"] = {"mode": "all_at_once" if serverless else "canary", **data["rollout"]}
        count = data["instanceCount"] if type(data["instanceCount"]) is int else 1
        if isinstance(scaling := data.get("autoscaling"), dict):
            scaling = {"minCapacity": count, **scaling}
            low = scaling["minCapacity"] if type(scaling["minCapacity"]) is int else count
            data["autoscaling"] = {"maxCapacity": max(count, 2 * low), **scaling}
        return mode_defaults(data, count)

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> Self:
        if not loading(info):
            return self
        count, scaling, serverless = self.instance_count, self.autoscaling, self.serverless is not None
        if self.is_production and serverless:
            raise SettingError(
                "serverless",
                "prod runs on instances (redundant across AZs, data capture, blue/green rollback); "
                "serverless is for staging or dev",
            )
        if self.is_production and count < 2:
            raise SettingError(
                "instanceCount",
                "prod needs at least 2 instances so an AZ outage does not take the endpoint down, "
                f"got {count}",
            )
        if serverless and self.data_capture_percent:
            raise SettingError(
                "dataCapturePercent", "serverless endpoints cannot capture data; set it to 0 or use instances"
            )
        if serverless and scaling is not None:
            raise SettingError("autoscaling", "serverless endpoints scale themselves")
        if serverless and self.rollout.mode != "all_at_once":
            raise SettingError("rollout.mode", "serverless endpoints only update all_at_once")
        if scaling is not None and not scaling.min_capacity <= count <= scaling.max_capacity:
            raise SettingError(
                "autoscaling.minCapacity",
                f"need minCapacity <= instanceCount ({count}) <= maxCapacity, "
                f"got {scaling.min_capacity}..{scaling.max_capacity}",
            )
        if self.is_production and scaling is not None and scaling.min_capacity < 2:
            raise SettingError("autoscaling.minCapacity", "prod must not scale below 2 instances")
        mode_rules(self)
        return self


@dataclass(frozen=True, kw_only=True, config=SECTION)
class Endpoints:
    """The endpoint stages; iterating gives them in rollout order (:data:`STAGES`)."""

    staging: StageConfig
    prod: StageConfig

    def __iter__(self) -> Iterator[StageConfig]:
        return iter((self.staging, self.prod))
