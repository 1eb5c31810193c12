"""Production monitoring: drift checks, retraining, notifications and the spend budget (``monitoring``)."""

from __future__ import annotations

from typing import Annotated, Any, Final, Self

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator
from pydantic.dataclasses import dataclass

from contracts.config.base import BOOLEAN, SECTION, SettingError, check, integer, loading, number, text
from contracts.config.release import Schedule

#: An AWS Budgets budget has at most five notifications.
MAX_BUDGET_NOTIFICATIONS: Final = 5


@dataclass(frozen=True, kw_only=True, config=SECTION)
class BudgetConfig:
    """The environment's monthly AWS Budgets cost budget (``monitoring.budget``; None when disabled)."""

    enabled: Annotated[bool, BOOLEAN] = True
    monthly_limit_usd: Annotated[float, number(1, 1_000_000)] = 500.0
    #: Notify when actual spend passes these percentages of the limit.
    alert_at_percent: Annotated[
        tuple[
            Annotated[int, check("a percentage from 1 to 1000", lambda v: type(v) is int and 1 <= v <= 1000)],
            ...,
        ],
        AfterValidator(lambda alerts: tuple(sorted(alerts))),
    ] = (80, 100)
    #: Notify when forecast spend passes this percentage, or None (0 in context: no forecast notification).
    forecast_at_percent: Annotated[int | None, integer(0, 1000), AfterValidator(lambda v: v or None)] = 100

    @field_validator("alert_at_percent", mode="before")
    @classmethod
    def _distinct(cls, alerts: Any) -> Any:
        for i, value in enumerate(alerts if isinstance(alerts, list) else ()):
            if value in alerts[:i] and type(value) is int:
                raise SettingError(f"[{i}]", f"{value} is listed twice")
        return alerts

    @model_validator(mode="after")
    def _notifications(self, info: ValidationInfo) -> Self:
        count = len(self.alert_at_percent) + (self.forecast_at_percent is not None)
        if loading(info) and self.enabled and not 1 <= count <= MAX_BUDGET_NOTIFICATIONS:
            raise SettingError(
                "alertAtPercent",
                f"a budget has 1 to {MAX_BUDGET_NOTIFICATIONS} notifications "
                f"(alertAtPercent plus forecastAtPercent unless 0), got {count}",
            )
        return self


@dataclass(frozen=True, kw_only=True, config=SECTION)
class MonitoringConfig:
    """Drift detection, retraining trigger and notifications."""

    drift_schedule: Schedule = "rate(1 hour)"
    #: Default per-feature distance threshold, and per-feature overrides.
    drift_threshold: Annotated[float, number(0.0, 10.0)] = 0.2
    feature_thresholds: Annotated[
        dict[
            Annotated[str, text(r"^[\w .-]{1,128}$", "a feature name")], Annotated[float, number(0.0, 10.0)]
        ],
        AfterValidator(lambda thresholds: dict(sorted(thresholds.items()))),
    ] = Field(default_factory=dict)
    missing_rate_tolerance: Annotated[float, number(0.0, 1.0)] = 0.05
    lookback_hours: Annotated[int, integer(1, 24 * 31)] = 24
    #: Drift-triggered retraining starts at most once per this many hours.
    retrain_min_interval_hours: Annotated[int, integer(1, 24 * 90)] = 24
    notification_emails: tuple[
        Annotated[str, text(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", "an email address")], ...
    ] = ()
    #: None only when ``monitoring.budget.enabled`` is false (a budget is on by default).
    budget: Annotated[
        BudgetConfig | None, AfterValidator(lambda b: b if b is None or b.enabled else None)
    ] = Field(default_factory=BudgetConfig)
