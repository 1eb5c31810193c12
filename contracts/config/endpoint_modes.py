"""How a stage serves beyond one real-time variant: a shadow variant (prod), or asynchronous inference.

Sections under ``endpoints.<stage>`` in ``cdk.json``::

    "shadow": {"windowMinutes": 60, "samplingPercent": 100, "minRequests": 100}
    "async":  {"maxConcurrentInvocationsPerInstance": 4, "minCapacity": 0, "maxCapacity": 2}

A stage is served one of three ways: real-time on instances (the default), serverless
(``serverless``), or asynchronous (``async``: requests queue in SageMaker, results land in S3,
instances scale on the queue, down to zero). ``shadow`` adds a challenger beside prod's real-time
variant. :func:`mode_rules` holds what combines with what; :class:`StageConfig` calls it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Final

from pydantic.dataclasses import dataclass

from contracts.config.base import SECTION, InstanceType, SettingError, integer

if TYPE_CHECKING:
    from contracts.config.release import StageConfig

#: ``async.maxCapacity`` when not set: at least 2, so a backlog spreads over two AZs' instances.
MIN_ASYNC_MAX_CAPACITY: Final = 2


@dataclass(frozen=True, kw_only=True, config=SECTION)
class ShadowConfig:
    """A shadow variant on prod: the challenger gets a copy of live requests; only production answers."""

    #: How long the deploy pipeline's Shadow stage collects traffic before it reports.
    window_minutes: Annotated[int, integer(5, 1440)] = 60
    #: Percent of production's requests SageMaker copies to the shadow.
    sampling_percent: Annotated[int, integer(1, 100)] = 100
    #: Paired requests the report needs before its figures count ("not enough shadow traffic").
    min_requests: Annotated[int, integer(1, 100000)] = 100
    #: The shadow's instances (default: the stage's type; one instance, its answers are never served).
    instance_type: InstanceType
    instance_count: Annotated[int, integer(1, 10)] = 1


@dataclass(frozen=True, kw_only=True, config=SECTION)
class AsyncConfig:
    """Asynchronous inference: queued requests, results in S3, scaling on the backlog (to zero)."""

    max_concurrent_invocations_per_instance: Annotated[int, integer(1, 1000)] = 4
    #: 0: no instance (no cost) while the queue is empty; requests wait for the scale-out.
    min_capacity: Annotated[int, integer(0, 100)] = 0
    max_capacity: Annotated[int, integer(1, 100)]
    #: Target tracking value of ``ApproximateBacklogSizePerInstance``.
    target_backlog_per_instance: Annotated[int, integer(1, 10000)] = 5


def mode_defaults(data: dict[str, Any], count: int) -> dict[str, Any]:
    """``data`` (a stage's raw section) with the shadow's instance type and async's capacity filled in."""
    if isinstance(shadow := data.get("shadow"), dict):
        data["shadow"] = {"instanceType": data.get("instanceType"), **shadow}
    if isinstance(queued := data.get("async"), dict):
        data["async"] = {"maxCapacity": max(MIN_ASYNC_MAX_CAPACITY, count), **queued}
    return data


def mode_rules(stage: StageConfig) -> None:
    """Refuse combinations SageMaker (or the platform) cannot serve.

    Raises:
        SettingError: naming the key at fault.
    """
    if stage.shadow is not None:
        _shadow_rules(stage)
    if stage.async_inference is not None:
        _async_rules(stage, stage.async_inference)


def cross_account_rules(stage: StageConfig, tooling_account: str | None) -> None:
    """Refuse the modes a stage in another account than ``tooling_account`` cannot have yet.

    Raises:
        SettingError: naming ``endpoints.<stage>.shadow`` or ``.async``.
    """
    if stage.account in (None, tooling_account):
        return
    if stage.shadow is not None:
        raise SettingError(
            f"endpoints.{stage.name}.shadow",
            "is not supported for a stage in another account: the tooling account's policies admit one "
            "model role per stage, and the shadow report reads that account's capture",
        )
    if stage.async_inference is not None:
        raise SettingError(
            f"endpoints.{stage.name}.async",
            "is not supported for a stage in another account yet: its smoke role may invoke the endpoint "
            "in real time only (no InvokeEndpointAsync, no access to the async input and output folders)",
        )


def _shadow_rules(stage: StageConfig) -> None:
    if not stage.is_production:
        raise SettingError(
            "shadow", "shadow testing runs on prod's live traffic; other stages test with the smoke test"
        )
    if stage.async_inference is not None:
        raise SettingError("shadow", "shadow variants are for real-time endpoints, not async ones")
    if not stage.data_capture_percent:
        raise SettingError(
            "dataCapturePercent", "the shadow report compares both variants' captured data; set it above 0"
        )


def _async_rules(stage: StageConfig, queued: AsyncConfig) -> None:
    if stage.serverless is not None:
        raise SettingError("async", "serverless and async are two serving modes; choose one")
    if stage.autoscaling is not None:
        raise SettingError(
            "autoscaling",
            "async endpoints scale on their backlog: set async.minCapacity and async.maxCapacity",
        )
    if not queued.min_capacity <= stage.instance_count <= queued.max_capacity:
        raise SettingError(
            "async.maxCapacity",
            f"need async.minCapacity <= instanceCount ({stage.instance_count}) <= async.maxCapacity, "
            f"got {queued.min_capacity}..{queued.max_capacity}",
        )
    if stage.idle_alarm_days:
        raise SettingError(
            "idleAlarmDays",
            "an async endpoint scales to async.minCapacity when its queue is empty; "
            "the idle alarm is for real-time instances (set it to 0)",
        )
