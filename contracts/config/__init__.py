"""Typed configuration: the one place CDK context becomes values (pydantic v2, no CDK).

``app.py`` reads the context once and hands it to :func:`load_config`, which returns frozen
objects or raises :class:`ConfigError` naming each offending key by its full dotted path and
what it accepts. Stacks, constructs, the release tools and the offline demo receive these objects.
"""

from contracts.config.base import ConfigError
from contracts.config.batch import BatchConfig
from contracts.config.endpoint_modes import AsyncConfig, ShadowConfig
from contracts.config.loader import AppConfig, EnvironmentConfig, ProjectConfig, load_config
from contracts.config.monitoring import MAX_BUDGET_NOTIFICATIONS, BudgetConfig, MonitoringConfig
from contracts.config.platform import (
    DEFAULT_INTERFACE_ENDPOINTS,
    INTERFACE_ENDPOINTS,
    PERSONAS,
    STUDIO_INSTANCE_TYPES,
    InstanceConfig,
    NetworkConfig,
    NetworkMode,
    Persona,
    PipelineConfig,
    RetentionConfig,
    ScaleConfig,
    StudioConfig,
    StudioUser,
)
from contracts.config.release import (
    DEFAULT_IDLE_ALARM_DAYS,
    MAX_IDLE_ALARM_DAYS,
    PRODUCTION_STAGE,
    ROLLOUT_MODES,
    STAGES,
    AlarmConfig,
    AutoscalingConfig,
    DeliveryConfig,
    Endpoints,
    RolloutConfig,
    RolloutMode,
    ServerlessConfig,
    SmokeTestConfig,
    SourceConfig,
    StageConfig,
)
from contracts.config.tracking import TRACKING_SERVER_SIZES, TrackingConfig, network_for

__all__ = [
    "DEFAULT_IDLE_ALARM_DAYS",
    "DEFAULT_INTERFACE_ENDPOINTS",
    "INTERFACE_ENDPOINTS",
    "MAX_BUDGET_NOTIFICATIONS",
    "MAX_IDLE_ALARM_DAYS",
    "PERSONAS",
    "PRODUCTION_STAGE",
    "ROLLOUT_MODES",
    "STAGES",
    "STUDIO_INSTANCE_TYPES",
    "TRACKING_SERVER_SIZES",
    "AlarmConfig",
    "AppConfig",
    "AsyncConfig",
    "AutoscalingConfig",
    "BatchConfig",
    "BudgetConfig",
    "ConfigError",
    "DeliveryConfig",
    "Endpoints",
    "EnvironmentConfig",
    "InstanceConfig",
    "MonitoringConfig",
    "NetworkConfig",
    "NetworkMode",
    "Persona",
    "PipelineConfig",
    "ProjectConfig",
    "RetentionConfig",
    "RolloutConfig",
    "RolloutMode",
    "ScaleConfig",
    "ServerlessConfig",
    "ShadowConfig",
    "SmokeTestConfig",
    "SourceConfig",
    "StageConfig",
    "StudioConfig",
    "StudioUser",
    "TrackingConfig",
    "load_config",
    "network_for",
]
