"""Typed config for delivery (push → pipeline → endpoints) and production monitoring.

Sections of one environment in ``cdk.json``::

    "delivery":   {"source": {...}, "retrainSchedule": "rate(7 days)"}
    "endpoints":  {"staging": {...}, "prod": {...}}
    "monitoring": {"driftSchedule": "rate(1 hour)", "notificationEmails": [...], ...}

Each endpoint stage names the approved-model file the deploy build writes
(``release.contract.ApprovedModel``); when that file does not exist the stage's endpoint stack
is simply not synthesized (nothing approved yet), everything else still is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, cast

from release.contract import ApprovedModel, ApprovedModelError
from stacks.config_reader import ConfigError, Reader, check

#: Endpoint stages, in rollout order. ``prod`` is held to production rules.
STAGES: Final[tuple[str, ...]] = ("staging", "prod")
PRODUCTION_STAGE: Final = "prod"
RolloutMode = Literal["canary", "linear", "all_at_once"]
ROLLOUT_MODES: Final[tuple[str, ...]] = ("canary", "linear", "all_at_once")
#: Upper bound of ``idleAlarmDays``: CloudWatch evaluates an alarm over at most 7 days
#: (period x evaluation periods <= 604,800 s; see stacks/endpoint/idle_alarm.py).
MAX_IDLE_ALARM_DAYS: Final = 7
#: ``idleAlarmDays`` of an instance-backed stage when not set (serverless stages: 0, off).
DEFAULT_IDLE_ALARM_DAYS: Final = 7

_INSTANCE_RE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_CONNECTION_RE = re.compile(
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[\w-]+$"
)
_REPO_RE = re.compile(r"^[\w.-]+(/[\w.-]+)+$")
_BRANCH_RE = re.compile(r"^[\w./-]{1,255}$")
_SCHEDULE_RE = re.compile(r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^()]+\))$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
_FEATURE_RE = re.compile(r"^[\w .-]{1,128}$")
_FILE_RE = re.compile(r"^[\w./-]+\.json$")


@dataclass(frozen=True, kw_only=True)
class SourceConfig:
    """Where pushes come from: a CodeConnections repository, or (no connection) an S3 object."""

    connection_arn: str | None
    repository: str | None
    branch: str
    file_paths: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class DeliveryConfig:
    """Push-to-pipeline settings."""

    source: SourceConfig
    #: EventBridge Scheduler expression that starts the training pipeline, or None (off).
    retrain_schedule: str | None


@dataclass(frozen=True, kw_only=True)
class ServerlessConfig:
    """Serverless inference: no instances, no cost when idle."""

    memory_size_mb: int
    max_concurrency: int


@dataclass(frozen=True, kw_only=True)
class AutoscalingConfig:
    """Target tracking on SageMakerVariantInvocationsPerInstance."""

    min_capacity: int
    max_capacity: int
    target_invocations_per_instance: int


@dataclass(frozen=True, kw_only=True)
class RolloutConfig:
    """Blue/green deployment guardrails for endpoint updates."""

    mode: RolloutMode
    #: Canary size, or linear step size, as a percent of capacity.
    step_percent: int
    wait_minutes: int
    termination_wait_minutes: int


@dataclass(frozen=True, kw_only=True)
class AlarmConfig:
    """Thresholds of the alarms that roll a deployment back."""

    max_model_latency_ms: int
    max_5xx_errors: int
    evaluation_minutes: int


@dataclass(frozen=True, kw_only=True)
class SmokeTestConfig:
    """What the post-deploy smoke test sends and accepts."""

    samples: int
    max_latency_ms: int


@dataclass(frozen=True, kw_only=True)
class StageConfig:
    """One endpoint stage (``staging`` or ``prod``) of an environment."""

    name: str
    instance_type: str
    instance_count: int
    serverless: ServerlessConfig | None
    autoscaling: AutoscalingConfig | None
    #: Percent of requests captured to the artifact bucket (0 = off; always 0 when serverless).
    data_capture_percent: int
    rollout: RolloutConfig
    alarms: AlarmConfig
    smoke_test: SmokeTestConfig
    #: Alarm (to the alert topic) after this many days without an invocation; 0 = no idle alarm.
    #: Default 7 on instances (they bill every hour), 0 on serverless (idle costs nothing there).
    idle_alarm_days: int
    #: The approved-model file (relative to the project root) the deploy build writes.
    model_file: str
    #: Its content, or None when the file does not exist yet (stack not synthesized).
    approved_model: ApprovedModel | None

    @property
    def is_production(self) -> bool:
        return self.name == PRODUCTION_STAGE


@dataclass(frozen=True, kw_only=True)
class BudgetConfig:
    """The environment's monthly AWS Budgets cost budget (``monitoring.budget``)."""

    monthly_limit_usd: float
    #: Notify when actual spend passes these percentages of the limit.
    alert_at_percent: tuple[int, ...]
    #: Notify when forecast spend passes this percentage, or None (no forecast notification).
    forecast_at_percent: int | None


#: An AWS Budgets budget has at most five notifications.
MAX_BUDGET_NOTIFICATIONS: Final = 5


@dataclass(frozen=True, kw_only=True)
class MonitoringConfig:
    """Drift detection, retraining trigger and notifications."""

    drift_schedule: str
    #: Default per-feature distance threshold, and per-feature overrides.
    drift_threshold: float
    feature_thresholds: Mapping[str, float]
    missing_rate_tolerance: float
    lookback_hours: int
    #: Drift-triggered retraining starts at most once per this many hours.
    retrain_min_interval_hours: int
    notification_emails: tuple[str, ...]
    #: None only when ``monitoring.budget.enabled`` is false (a budget is on by default).
    budget: BudgetConfig | None


# --------------------------------------------------------------------------- readers


def read_delivery(r: Reader) -> DeliveryConfig:
    r.reject_unknown(("source", "retrainSchedule"))
    s = r.child("source", {})
    s.reject_unknown(("connectionArn", "repository", "branch", "filePaths"))
    connection = s.optional_string("connectionArn", _CONNECTION_RE, "a CodeConnections connection ARN")
    repository = (
        s.string("repository", _REPO_RE, "owner/name of the repository")
        if connection is not None
        else s.optional_string("repository", _REPO_RE, "owner/name of the repository")
    )
    paths = tuple(
        check(key, value, re.compile(r"^[^\s]{1,255}$"), "a glob such as ml_code/**")
        for key, value in s.items("filePaths", ["ml_code/**"])
    )
    if not paths:
        raise ConfigError(f"context key '{s.key('filePaths')}': name at least one path glob")
    return DeliveryConfig(
        source=SourceConfig(
            connection_arn=connection,
            repository=repository,
            branch=s.string("branch", _BRANCH_RE, "a branch name", "main"),
            file_paths=paths,
        ),
        retrain_schedule=r.optional_string(
            "retrainSchedule", _SCHEDULE_RE, "an EventBridge Scheduler rate(...) or cron(...) expression"
        ),
    )


def read_endpoints(
    r: Reader, *, env_name: str, default_instance_type: str, root: Path | None
) -> tuple[StageConfig, ...]:
    """Read ``endpoints``; ``root`` is where model files are looked up (None: never read)."""
    r.reject_unknown(STAGES)
    return tuple(
        _stage(
            stage,
            r.child(stage, {}),
            env_name=env_name,
            default_instance_type=default_instance_type,
            root=root,
        )
        for stage in STAGES
    )


def _stage(
    name: str, r: Reader, *, env_name: str, default_instance_type: str, root: Path | None
) -> StageConfig:
    r.reject_unknown(
        (
            "instanceType",
            "instanceCount",
            "serverless",
            "autoscaling",
            "dataCapturePercent",
            "rollout",
            "alarms",
            "smokeTest",
            "idleAlarmDays",
            "modelFile",
        )
    )
    production = name == PRODUCTION_STAGE
    serverless = None
    if r.raw("serverless", None) is not None:
        if production:
            raise ConfigError(
                f"context key '{r.key('serverless')}': prod runs on instances (redundant across AZs, "
                "data capture, blue/green rollback); serverless is for staging or dev"
            )
        sl = r.child("serverless")
        sl.reject_unknown(("memorySizeMb", "maxConcurrency"))
        memory = sl.integer("memorySizeMb", 1024, 6144, 2048)
        if memory % 1024:
            raise ConfigError(
                f"context key '{sl.key('memorySizeMb')}': expected 1024, 2048, ... 6144, got {memory}"
            )
        serverless = ServerlessConfig(
            memory_size_mb=memory, max_concurrency=sl.integer("maxConcurrency", 1, 200, 5)
        )
    count = r.integer("instanceCount", 1, 100, 2 if production else 1)
    if production and count < 2:
        raise ConfigError(
            f"context key '{r.key('instanceCount')}': prod needs at least 2 instances so an AZ outage "
            f"does not take the endpoint down, got {count}"
        )
    capture = r.integer("dataCapturePercent", 0, 100, 0 if serverless else 100)
    if serverless and capture:
        raise ConfigError(
            f"context key '{r.key('dataCapturePercent')}': serverless endpoints cannot capture data; "
            "set it to 0 or use instances"
        )
    autoscaling = None
    if serverless is None and r.raw("autoscaling", None) is not None:
        a = r.child("autoscaling")
        a.reject_unknown(("minCapacity", "maxCapacity", "targetInvocationsPerInstance"))
        low = a.integer("minCapacity", 1, 100, count)
        high = a.integer("maxCapacity", 1, 100, max(count, 2 * low))
        if not low <= count <= high:
            raise ConfigError(
                f"context key '{a.key('minCapacity')}': need minCapacity <= instanceCount "
                f"({count}) <= maxCapacity, "
                f"got {low}..{high}"
            )
        if production and low < 2:
            raise ConfigError(f"context key '{a.key('minCapacity')}': prod must not scale below 2 instances")
        autoscaling = AutoscalingConfig(
            min_capacity=low,
            max_capacity=high,
            target_invocations_per_instance=a.integer("targetInvocationsPerInstance", 1, 100000, 200),
        )
    elif serverless is not None and r.raw("autoscaling", None) is not None:
        raise ConfigError(f"context key '{r.key('autoscaling')}': serverless endpoints scale themselves")
    ro = r.child("rollout", {})
    ro.reject_unknown(("mode", "stepPercent", "waitMinutes", "terminationWaitMinutes"))
    mode = cast(RolloutMode, ro.choice("mode", ROLLOUT_MODES, "all_at_once" if serverless else "canary"))
    if serverless and mode != "all_at_once":
        raise ConfigError(f"context key '{ro.key('mode')}': serverless endpoints only update all_at_once")
    al = r.child("alarms", {})
    al.reject_unknown(("maxModelLatencyMs", "max5xxErrors", "evaluationMinutes"))
    sm = r.child("smokeTest", {})
    sm.reject_unknown(("samples", "maxLatencyMs"))
    model_file = r.string(
        "modelFile", _FILE_RE, "a relative path to a .json file", f".build/release/{env_name}-{name}.json"
    )
    if model_file.startswith("/") or ".." in Path(model_file).parts:
        raise ConfigError(
            f"context key '{r.key('modelFile')}': expected a path inside the project, got {model_file!r}"
        )
    return StageConfig(
        name=name,
        instance_type=r.string(
            "instanceType", _INSTANCE_RE, "a SageMaker instance type", default_instance_type
        ),
        instance_count=count,
        serverless=serverless,
        autoscaling=autoscaling,
        data_capture_percent=capture,
        rollout=RolloutConfig(
            mode=mode,
            step_percent=ro.integer("stepPercent", 1, 50, 10),
            wait_minutes=ro.integer("waitMinutes", 1, 60, 10),
            termination_wait_minutes=ro.integer("terminationWaitMinutes", 0, 60, 5),
        ),
        alarms=AlarmConfig(
            max_model_latency_ms=al.integer("maxModelLatencyMs", 1, 600000, 1000),
            max_5xx_errors=al.integer("max5xxErrors", 0, 100000, 0),
            evaluation_minutes=al.integer("evaluationMinutes", 1, 60, 2),
        ),
        smoke_test=SmokeTestConfig(
            samples=sm.integer("samples", 1, 1000, 20),
            max_latency_ms=sm.integer("maxLatencyMs", 1, 60000, 2000),
        ),
        idle_alarm_days=r.integer(
            "idleAlarmDays", 0, MAX_IDLE_ALARM_DAYS, 0 if serverless else DEFAULT_IDLE_ALARM_DAYS
        ),
        model_file=model_file,
        approved_model=_approved(root, model_file, r.key("modelFile")),
    )


def _approved(root: Path | None, model_file: str, key: str) -> ApprovedModel | None:
    if root is None or not (root / model_file).is_file():
        return None
    try:
        return ApprovedModel.read(root / model_file)
    except ApprovedModelError as exc:
        raise ConfigError(f"context key '{key}': {exc}") from exc


def read_monitoring(r: Reader) -> MonitoringConfig:
    r.reject_unknown(
        (
            "driftSchedule",
            "driftThreshold",
            "featureThresholds",
            "missingRateTolerance",
            "lookbackHours",
            "retrainMinIntervalHours",
            "notificationEmails",
            "budget",
        )
    )
    raw = r.raw("featureThresholds", {})
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"context key '{r.key('featureThresholds')}': expected an object of feature -> number"
        )
    thresholds = {}
    ft = r.child("featureThresholds", {})
    for feature in sorted(raw):
        if not _FEATURE_RE.match(feature):
            raise ConfigError(f"context key '{ft.key(feature)}': not a feature name")
        thresholds[feature] = ft.number(feature, 0.0, 10.0)
    emails = tuple(
        check(key, value, _EMAIL_RE, "an email address") for key, value in r.items("notificationEmails", [])
    )
    return MonitoringConfig(
        drift_schedule=r.string(
            "driftSchedule", _SCHEDULE_RE, "a rate(...) or cron(...) expression", "rate(1 hour)"
        ),
        drift_threshold=r.number("driftThreshold", 0.0, 10.0, 0.2),
        feature_thresholds=thresholds,
        missing_rate_tolerance=r.number("missingRateTolerance", 0.0, 1.0, 0.05),
        lookback_hours=r.integer("lookbackHours", 1, 24 * 31, 24),
        retrain_min_interval_hours=r.integer("retrainMinIntervalHours", 1, 24 * 90, 24),
        notification_emails=emails,
        budget=_budget(r.child("budget", {})),
    )


def _budget(r: Reader) -> BudgetConfig | None:
    """``monitoring.budget``; on by default (500 USD a month, 80 % and 100 % actual, 100 % forecast)."""
    r.reject_unknown(("enabled", "monthlyLimitUsd", "alertAtPercent", "forecastAtPercent"))
    if not r.boolean("enabled", True):
        return None
    alerts: list[int] = []
    for key, value in r.items("alertAtPercent", [80, 100]):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
            raise ConfigError(f"context key '{key}': expected a percentage from 1 to 1000, got {value!r}")
        if value in alerts:
            raise ConfigError(f"context key '{key}': {value} is listed twice")
        alerts.append(value)
    forecast = r.integer("forecastAtPercent", 0, 1000, 100) or None  # 0: no forecast notification
    count = len(alerts) + (forecast is not None)
    if not 1 <= count <= MAX_BUDGET_NOTIFICATIONS:
        raise ConfigError(
            f"context key '{r.key('alertAtPercent')}': a budget has 1 to {MAX_BUDGET_NOTIFICATIONS} "
            f"notifications (alertAtPercent plus forecastAtPercent unless 0), got {count}"
        )
    return BudgetConfig(
        monthly_limit_usd=r.number("monthlyLimitUsd", 1, 1_000_000, 500),
        alert_at_percent=tuple(sorted(alerts)),
        forecast_at_percent=forecast,
    )
