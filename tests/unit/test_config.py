"""The typed config loader: a valid cdk.json loads; every invalid input names its key."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contracts.config import DEFAULT_INTERFACE_ENDPOINTS, ConfigError, load_config

CONTEXT = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]


def _context(edit: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    context = copy.deepcopy({k: CONTEXT[k] for k in ("env", "project", "environments")})
    if edit is not None:
        edit(context)
    return context


def _dev(context: dict[str, Any]) -> dict[str, Any]:
    return context["environments"]["dev"]


def test_cdk_json_loads_every_environment() -> None:
    for name in CONTEXT["environments"]:
        config = load_config(_context(), name)
        assert config.prefix == f"mlops-demo-{name}"
        assert config.all_tags["Environment"] == name
        assert config.all_tags["Project"] == "mlops-demo"


def test_defaults_fill_omitted_sections() -> None:
    config = load_config(_context(lambda c: c["environments"].update(sandbox={})), "sandbox")
    assert config.env.network.mode == "create"
    assert config.env.network.interface_endpoints == tuple(sorted(DEFAULT_INTERFACE_ENDPOINTS))
    assert config.env.studio.users == ()
    assert config.env.instances.training == "ml.m5.xlarge"


def test_existing_network_loads() -> None:
    def existing(c: dict[str, Any]) -> None:
        _dev(c)["network"] = {
            "mode": "existing",
            "cidr": "172.31.0.0/16",
            "vpcId": "vpc-0123456789abcdef0",
            "subnetIds": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
            "availabilityZones": ["eu-west-1a", "eu-west-1b"],
            "securityGroupId": "sg-0123456789abcdef0",
        }

    network = load_config(_context(existing)).env.network
    assert network.vpc_id == "vpc-0123456789abcdef0"
    assert network.availability_zones == ("eu-west-1a", "eu-west-1b")
    assert network.cidr == "172.31.0.0/16"


def test_existing_network_must_state_its_cidr() -> None:
    # The existing VPC's range drives security-group rules; a default would be a silent lie.
    def existing(c: dict[str, Any]) -> None:
        _dev(c)["network"] = {
            "mode": "existing",
            "vpcId": "vpc-0123456789abcdef0",
            "subnetIds": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
            "availabilityZones": ["eu-west-1a", "eu-west-1b"],
        }

    with pytest.raises(ConfigError, match=r"'environments\.dev\.network\.cidr' is missing"):
        load_config(_context(existing))


_EXISTING_BASE = {"mode": "existing", "cidr": "10.9.0.0/16", "vpcId": "vpc-0123456789abcdef0"}


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Edit that sets (or, with value ``...``, deletes) a dotted context key."""

    def edit(context: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = context
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is ...:
            del node[last]
        else:
            node[last] = value

    return edit


INVALID = [
    # (edit, key the message must name, text it must contain)
    (_set("project", ...), "project", "missing"),
    (_set("project.name", ...), "project.name", "missing"),
    (_set("project.name", "Bad_Name"), "project.name", "lowercase"),
    (_set("project.colour", "blue"), "project.colour", "not a known setting"),
    (_set("env", "qa"), "env", "dev, multi, prod, scale, staging"),
    (_set("environments", {}), "environments", "at least one"),
    (_set("environments.dev.instances", {"training": "m5.xlarge"}), "environments.dev.instances.training",
     "instance type"),
    (_set("environments.dev.studio.idleTimeoutMinutes", 5), "environments.dev.studio.idleTimeoutMinutes",
     "from 60 to 525600"),
    (_set("environments.dev.studio.users.0.persona", "admin"), "environments.dev.studio.users[0].persona",
     "data_scientist, ml_engineer"),
    (_set("environments.dev.studio.users.1.name", "data-scientist"), "environments.dev.studio.users",
     "unique"),
    (_set("environments.dev.studio.users.0.name", "no spaces"), "environments.dev.studio.users[0].name",
     "user profile name"),
    (_set("environments.dev.network.colour", 1), "environments.dev.network.colour", "not a known setting"),
    (_set("environments.dev.network.cidr", "10.0.0.0/8"), "environments.dev.network.cidr", "IPv4 CIDR"),
    (_set("environments.dev.network.mode", "shared"), "environments.dev.network.mode", "create, existing"),
    (_set("environments.dev.network.maxAzs", 1), "environments.dev.network.maxAzs", "from 2 to 6"),
    (_set("environments.dev.network.interfaceEndpoints", ["sagemaker_api", "s3"]),
     "environments.dev.network.interfaceEndpoints[1]", "sagemaker_api"),
    (_set("environments.dev.network.flowLogRetentionDays", 100),
     "environments.dev.network.flowLogRetentionDays", "90, 120"),
    (_set("environments.dev.network", {**_EXISTING_BASE}),
     "environments.dev.network.subnetIds", "missing"),
    (_set("environments.dev.network", {**_EXISTING_BASE,
      "subnetIds": ["subnet-0aaaaaaaaaaaaaaaa"], "availabilityZones": ["eu-west-1a"]}),
     "environments.dev.network.subnetIds", "at least 2"),
    (_set("environments.dev.network", {**_EXISTING_BASE,
      "subnetIds": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
      "availabilityZones": ["eu-west-1a", "eu-west-1a"]}),
     "environments.dev.network.availabilityZones", "2 AZs"),
    (_set("environments.dev.account", "12345"), "environments.dev.account", "12-digit"),
    (_set("environments.dev.region", "moon-1"), "environments.dev.region", "AWS region"),
    (_set("environments.dev.pipeline.qualityThreshold", 1.5), "environments.dev.pipeline.qualityThreshold",
     "from 0.0 to 1.0"),
    (_set("environments.dev.pipeline.useSpot", "yes"), "environments.dev.pipeline.useSpot", "true or false"),
    (_set("environments.dev.pipeline.scale", {"trainingInstances": 0}),
     "environments.dev.pipeline.scale.trainingInstances", "from 1 to 100"),
    (_set("environments.dev.pipeline.scale", {"processingInstances": 2.0}),
     "environments.dev.pipeline.scale.processingInstances", "an integer"),
    (_set("environments.dev.pipeline.scale", {"chunkRows": 10}),
     "environments.dev.pipeline.scale.chunkRows", "from 1000 to 5000000"),
    (_set("environments.dev.pipeline.scale", {"externalMemory": "yes"}),
     "environments.dev.pipeline.scale.externalMemory", "true or false"),
    (_set("environments.dev.pipeline.scale", {"shardSize": 10}),
     "environments.dev.pipeline.scale.shardSize", "not a known setting"),
    (_set("environments.dev.tags", {"Stage": 1}), "environments.dev.tags", "string tag"),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "key", "text"), INVALID, ids=[f"{key}:{text}" for _, key, text in INVALID])
def test_invalid_input_names_the_key(edit: Callable[[dict[str, Any]], None], key: str, text: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(_context(edit))
    message = str(raised.value)
    assert f"'{key}'" in message
    assert text in message


def test_scale_defaults_to_one_instance_and_reads_its_keys() -> None:
    scale = load_config(_context()).env.pipeline.scale
    assert (scale.processing_instances, scale.training_instances) == (1, 1)
    assert (scale.chunk_rows, scale.sample_rows) == (100_000, 100_000)

    def two(c: dict[str, Any]) -> None:
        scale = {"processingInstances": 2, "trainingInstances": 3, "sampleRows": 5000}
        _dev(c)["pipeline"] = {"scale": scale}

    scale = load_config(_context(two)).env.pipeline.scale
    assert (scale.processing_instances, scale.training_instances, scale.sample_rows) == (2, 3, 5000)


# ----------------------------------------------------------------- issue 10: guardrail settings


def test_instance_allowlist_defaults_to_the_configured_types() -> None:
    instances = load_config(_context()).env.instances
    assert instances.allowed == tuple(sorted({instances.processing, instances.training, instances.endpoint}))


def test_instance_allowlist_can_widen_and_must_hold_the_configured_types() -> None:
    def widen(c: dict[str, Any]) -> None:
        _dev(c)["instances"] = {
            "training": "ml.m5.xlarge",
            "allowed": ["ml.m5.large", "ml.m5.xlarge", "ml.c5.2xlarge"],
        }

    assert "ml.c5.2xlarge" in load_config(_context(widen)).env.instances.allowed

    def narrow(c: dict[str, Any]) -> None:
        _dev(c)["instances"] = {"training": "ml.p3.2xlarge", "allowed": ["ml.m5.large", "ml.m5.xlarge"]}

    with pytest.raises(
        ConfigError, match=r"'environments\.dev\.instances\.training': ml\.p3\.2xlarge is not in"
    ):
        load_config(_context(narrow))

    def bad(c: dict[str, Any]) -> None:
        _dev(c)["instances"] = {"allowed": ["m5.large"]}

    with pytest.raises(ConfigError, match=r"'environments\.dev\.instances\.allowed\[0\]'"):
        load_config(_context(bad))


def test_retention_defaults_and_bounds() -> None:
    retention = load_config(_context()).env.retention
    assert (retention.capture_days, retention.drift_check_days, retention.intermediate_days) == (90, 30, 30)

    def zero(c: dict[str, Any]) -> None:
        _dev(c)["retention"] = {"captureDays": 0}

    with pytest.raises(ConfigError, match=r"'environments\.dev\.retention\.captureDays'"):
        load_config(_context(zero))

    def typo(c: dict[str, Any]) -> None:
        _dev(c)["retention"] = {"captureDay": 10}

    with pytest.raises(ConfigError, match=r"environments\.dev\.retention"):
        load_config(_context(typo))


def test_approver_is_a_persona() -> None:
    def approver(c: dict[str, Any]) -> None:
        _dev(c)["studio"]["users"].append({"name": "reviewer", "persona": "approver"})

    users = load_config(_context(approver)).env.studio.users
    assert ("reviewer", "approver") in [(u.name, u.persona) for u in users]


def test_capture_must_outlive_the_drift_lookback() -> None:
    def short(c: dict[str, Any]) -> None:
        _dev(c)["retention"] = {"captureDays": 1}
        _dev(c)["monitoring"]["lookbackHours"] = 48

    with pytest.raises(
        ConfigError, match=r"'environments\.dev\.retention\.captureDays': 1 days expire capture"
    ):
        load_config(_context(short))


def test_studio_instance_types_default_small_and_name_their_key() -> None:
    assert load_config(_context()).env.studio.instance_types == ("ml.m5.large", "ml.t3.large", "ml.t3.medium")

    def bad(c: dict[str, Any]) -> None:
        _dev(c)["studio"]["instanceTypes"] = ["p5.48xlarge"]

    with pytest.raises(ConfigError, match=r"'environments\.dev\.studio\.instanceTypes\[0\]'"):
        load_config(_context(bad))
