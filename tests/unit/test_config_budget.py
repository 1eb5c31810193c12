"""``monitoring.budget``: on by default, limits and thresholds validated with dotted-key errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from contracts.config import BudgetConfig, ConfigError, load_config

CONTEXT = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]


def _budget(settings: Any) -> BudgetConfig | None:
    context = copy.deepcopy({k: CONTEXT[k] for k in ("env", "project", "environments")})
    if settings is not None:
        context["environments"]["dev"]["monitoring"]["budget"] = settings
    return load_config(context, "dev").env.monitoring.budget


def test_without_settings_every_environment_has_a_budget() -> None:
    assert _budget(None) == BudgetConfig(
        monthly_limit_usd=500.0, alert_at_percent=(80, 100), forecast_at_percent=100
    )


def test_settings_are_read_and_thresholds_sorted() -> None:
    budget = _budget({"monthlyLimitUsd": 120, "alertAtPercent": [100, 50], "forecastAtPercent": 0})
    assert budget == BudgetConfig(
        monthly_limit_usd=120.0, alert_at_percent=(50, 100), forecast_at_percent=None
    )


def test_a_budget_can_be_turned_off() -> None:
    assert _budget({"enabled": False}) is None


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"monthlyLimitUsd": 0}, "monitoring.budget.monthlyLimitUsd"),
        ({"monthlyLimitUsd": "500"}, "monitoring.budget.monthlyLimitUsd"),
        ({"alertAtPercent": [80, 0]}, "monitoring.budget.alertAtPercent[1]"),
        ({"alertAtPercent": [80, True]}, "monitoring.budget.alertAtPercent[1]"),
        ({"alertAtPercent": [80, 80]}, "monitoring.budget.alertAtPercent[1]"),
        ({"alertAtPercent": 80}, "monitoring.budget.alertAtPercent"),
        ({"alertAtPercent": [10, 20, 30, 40, 50]}, "monitoring.budget.alertAtPercent"),  # 6 with forecast
        ({"alertAtPercent": [], "forecastAtPercent": 0}, "monitoring.budget.alertAtPercent"),  # none at all
        ({"forecastAtPercent": -1}, "monitoring.budget.forecastAtPercent"),
        ({"enabled": "no"}, "monitoring.budget.enabled"),
        ({"limit": 5}, "monitoring.budget.limit"),
        ([500], "monitoring.budget"),
    ],
)
def test_invalid_settings_name_their_key(settings: Any, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.").replace("[", r"\[").replace("]", r"\]")):
        _budget(settings)
