"""Multi-account config: each endpoint stage may name its own account; absent means the tooling one."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from contracts.config import ConfigError, load_config

CONTEXT = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]
TOOLING, STAGING, PROD = "111111111111", "222222222222", "333333333333"


def _context(**dev: Any) -> dict[str, Any]:
    context = copy.deepcopy({k: CONTEXT[k] for k in ("env", "project", "environments")})
    context["environments"]["dev"].update(dev)
    return context


def _stages(staging: dict[str, Any], prod: dict[str, Any]) -> dict[str, Any]:
    endpoints = copy.deepcopy(CONTEXT["environments"]["dev"].get("endpoints", {}))
    endpoints.setdefault("staging", {}).update(staging)
    endpoints.setdefault("prod", {}).update(prod)
    endpoints["prod"].pop("shadow", None)  # dev's prod shadow-tests, which a stage elsewhere cannot
    return dict(endpoints)


def test_absent_stage_accounts_mean_the_tooling_account_as_today() -> None:
    env = load_config(_context(account=TOOLING, region="eu-west-1")).env
    assert [env.stage_account(stage) for stage in env.endpoints] == [TOOLING, TOOLING]
    assert env.cross_account_stages == {}
    env_agnostic = load_config(_context()).env
    assert [env_agnostic.stage_account(stage) for stage in env_agnostic.endpoints] == [None, None]


def test_stages_in_their_own_accounts() -> None:
    env = load_config(
        _context(
            account=TOOLING,
            region="eu-west-1",
            organizationId="o-abcdefghij",
            endpoints=_stages({"account": STAGING}, {"account": PROD, "region": "eu-west-1"}),
        )
    ).env
    assert env.cross_account_stages == {"staging": STAGING, "prod": PROD}
    assert env.stage("prod").region == "eu-west-1"
    assert env.organization_id == "o-abcdefghij"
    assert env.bootstrap_qualifier == "hnb659fds"  # CDK's default


def test_a_stage_naming_the_tooling_account_is_not_cross_account() -> None:
    env = load_config(
        _context(account=TOOLING, endpoints=_stages({"account": TOOLING}, {"account": PROD}))
    ).env
    assert env.cross_account_stages == {"prod": PROD}


@pytest.mark.parametrize(
    ("dev", "key", "text"),
    [
        ({"endpoints": _stages({}, {"account": PROD})}, "environments.dev.account", "is required when"),
        ({"account": TOOLING, "endpoints": _stages({"account": "12"}, {})},
         "environments.dev.endpoints.staging.account", "12-digit"),
        ({"account": TOOLING, "region": "eu-west-1", "endpoints": _stages({}, {"region": "us-east-1"})},
         "environments.dev.endpoints.prod.region", "must be the environment's region (eu-west-1)"),
        ({"account": TOOLING, "endpoints": _stages({}, {"region": "eu-west-1"})},
         "environments.dev.endpoints.prod.region", "region is unset"),
        ({"organizationId": "org-1"}, "environments.dev.organizationId", "organization ID"),
        ({"bootstrapQualifier": "my-qualifier"}, "environments.dev.bootstrapQualifier", "1 to 10 letters"),
    ],
)  # fmt: skip
def test_invalid_accounts_name_their_key(dev: dict[str, Any], key: str, text: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(_context(**dev))
    assert f"'{key}'" in str(raised.value)
    assert text in str(raised.value)
