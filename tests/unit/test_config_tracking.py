"""The ``tracking`` section (issue 15): its keys, defaults, errors, and the endpoint it implies."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from contracts.config import (
    TRACKING_SERVER_SIZES,
    ConfigError,
    NetworkConfig,
    TrackingConfig,
    load_config,
    network_for,
)
from contracts.config.tracking import TRACKING_ENDPOINT

CONTEXT = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]


def _load(tracking: Any, env: str = "dev") -> TrackingConfig:
    context = copy.deepcopy({k: CONTEXT[k] for k in ("env", "project", "environments")})
    context["environments"][env]["tracking"] = tracking
    return load_config(context, env).env.tracking


def test_off_by_default_in_every_environment_but_dev() -> None:
    # A tracking server bills every hour it exists: no environment gets one it did not ask for.
    # dev asks (the demo's runs are tracked, offline, by a local server; issue 15).
    for name, environment in CONTEXT["environments"].items():
        assert ("tracking" in environment) == (name == "dev"), name
        assert load_config(CONTEXT, name).env.tracking == TrackingConfig(enabled=name == "dev"), name
    without = copy.deepcopy(CONTEXT)
    del without["environments"]["dev"]["tracking"]
    assert load_config(without, "dev").env.tracking == TrackingConfig(enabled=False)


def test_keys_are_read_by_their_camel_case_names() -> None:
    got = _load({"enabled": True, "size": "Large", "mlflowVersion": "2.16", "maintenanceWindow": "Tue:22:30"})
    assert got == TrackingConfig(
        enabled=True, size="Large", mlflow_version="2.16", maintenance_window="Tue:22:30"
    )


def test_null_means_the_default() -> None:
    assert _load({"enabled": True, "size": None}).size == "Small"


@pytest.mark.parametrize(
    ("tracking", "key", "text"),
    [
        ({"enabled": "yes"}, "tracking.enabled", "true or false"),
        ({"size": "XLarge"}, "tracking.size", "expected one of"),
        ({"mlflowVersion": "latest"}, "tracking.mlflowVersion", "an MLflow version"),
        ({"maintenanceWindow": "Sunday 3am"}, "tracking.maintenanceWindow", "a day and time"),
        ({"maintenanceWindow": "Sun:24:00"}, "tracking.maintenanceWindow", "a day and time"),
        ({"kind": "app"}, "tracking.kind", "not a known setting"),
    ],
)
def test_invalid_values_name_their_key(tracking: dict[str, Any], key: str, text: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(tracking)
    assert f"'environments.dev.{key}'" in str(raised.value)
    assert text in str(raised.value)


def test_sizes_are_the_three_cloudformation_accepts() -> None:
    assert TRACKING_SERVER_SIZES == ("Small", "Medium", "Large")


def test_enabled_tracking_adds_the_experiments_endpoint_once_and_sorted() -> None:
    network = NetworkConfig(interface_endpoints=("sts", "sagemaker_api"))
    with_tracking = network_for(network, TrackingConfig(enabled=True))
    assert with_tracking.interface_endpoints == ("sagemaker_api", TRACKING_ENDPOINT, "sts")
    assert network_for(with_tracking, TrackingConfig(enabled=True)) == with_tracking
    assert network_for(network, TrackingConfig()) is network
