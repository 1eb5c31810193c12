"""SharedResources: what every stack is handed, and the clear error when a part is not made yet."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from platform_synth import cdk_context
from stand_ins import shared_resources, with_network_and_topic

from contracts.config import load_config

CONFIG = load_config(cdk_context())


def test_network_and_alert_topic_are_asked_for_before_they_exist() -> None:
    # GIVEN the resources as the data stack leaves them
    shared = shared_resources(cdk.Stack(cdk.App(), "Deps"), CONFIG)
    # THEN a stack that needs the network or the alert topic is told which stack makes it
    with pytest.raises(ValueError, match="network stack"):
        _ = shared.network
    with pytest.raises(ValueError, match="monitoring stack"):
        _ = shared.alert_topic


def test_extending_returns_a_copy_and_the_boundary_is_the_network_key_and_allowlist() -> None:
    deps = cdk.Stack(cdk.App(), "Deps")
    base = shared_resources(deps, CONFIG)
    # WHEN the network and the topic are added
    shared = with_network_and_topic(base, deps)
    # THEN the original is unchanged and the copy carries both
    with pytest.raises(ValueError, match="network stack"):
        _ = base.network
    assert isinstance(shared.alert_topic, sns.Topic)
    boundary = shared.job_boundary
    assert list(boundary.subnet_ids) == [s.subnet_id for s in shared.network.subnets]
    assert len(boundary.subnet_ids) == 2
    assert boundary.security_group_id == shared.network.security_group.security_group_id
    assert boundary.key_arn == shared.key.key_arn
    assert tuple(boundary.instance_types) == CONFIG.env.instances.allowed
