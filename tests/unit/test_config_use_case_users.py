"""Studio users per use case (issue 18 point 3): ``useCases.<name>.users``, shaped as ``studio.users``;
one Studio domain per environment, so a user profile name is unique across every use case."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from contracts.config import ConfigError, load_config

CONTEXT = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]
PROJECT = CONTEXT["project"]["name"]
FRAUD = {"targetColumn": "is_fraud", "problemType": "binary"}
#: dev's own Studio users (``environments.dev.studio.users``), for the clash cases.
DEV_USERS = [user["name"] for user in CONTEXT["environments"]["dev"]["studio"]["users"]]


def _context(use_cases: dict[str, Any]) -> dict[str, Any]:
    context = copy.deepcopy({k: CONTEXT[k] for k in ("env", "project", "environments")})
    context["environments"]["dev"]["useCases"] = use_cases
    return context


def _users(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "persona": persona} for name, persona in pairs]


def test_an_additional_use_case_gets_its_users() -> None:
    users = _users(("fraud-scientist", "data_scientist"), ("fraud-approver", "approver"))
    config = load_config(_context({"fraud": {**FRAUD, "users": users}, "demand": FRAUD}))
    primary, demand, fraud = config.use_cases
    assert [(u.name, u.persona) for u in fraud.users] == [
        ("fraud-scientist", "data_scientist"),
        ("fraud-approver", "approver"),
    ]
    assert demand.users == ()  # a use case without users has none
    assert primary.users == ()  # the project's own are studio.users
    assert [u.name for u in config.env.studio.users] == DEV_USERS


def test_the_shipped_cases_env_gives_fraud_one_user_per_persona() -> None:
    config = load_config(CONTEXT, "cases")
    fraud = next(case for case in config.use_cases if case.name == "fraud")
    assert sorted(u.persona for u in fraud.users) == ["approver", "data_scientist", "ml_engineer"]


@pytest.mark.parametrize(
    ("use_cases", "message"),
    [
        (  # a name the project's own Studio users already have
            {"fraud": {**FRAUD, "users": _users(("ok-user", "approver"), (DEV_USERS[0], "ml_engineer"))}},
            f"'environments.dev.useCases.fraud.users[1].name': user '{DEV_USERS[0]}' is already "
            "'environments.dev.studio.users[0]'",
        ),
        (  # the same name in two use cases
            {
                "demand": {**FRAUD, "users": _users(("analyst", "data_scientist"))},
                "fraud": {**FRAUD, "users": _users(("analyst", "ml_engineer"))},
            },
            "'environments.dev.useCases.fraud.users[0].name': user 'analyst' is already "
            "'environments.dev.useCases.demand.users[0]'",
        ),
        (  # twice in one use case
            {"fraud": {**FRAUD, "users": _users(("analyst", "data_scientist"), ("analyst", "approver"))}},
            "'environments.dev.useCases.fraud.users[1].name': user 'analyst' is already "
            "'environments.dev.useCases.fraud.users[0]'",
        ),
        (  # the project's own users stay studio.users
            {PROJECT: {**FRAUD, "users": _users(("analyst", "data_scientist"))}},
            f"'environments.dev.useCases.{PROJECT}.users': the project's own use case lists its Studio "
            "users under 'environments.dev.studio.users'",
        ),
        (
            {"fraud": {**FRAUD, "users": _users(("analyst", "admin"))}},
            "'environments.dev.useCases.fraud.users[0].persona': expected one of",
        ),
        (
            {"fraud": {**FRAUD, "users": _users(("not a name", "approver"))}},
            "'environments.dev.useCases.fraud.users[0].name': expected a user profile name",
        ),
        (
            {"fraud": {**FRAUD, "users": [{"name": "analyst", "persona": "approver", "role": "x"}]}},
            "'environments.dev.useCases.fraud.users[0].role' is not a known setting",
        ),
        (  # the ML engineer's ad-hoc endpoints are <prefix>-sandbox-*
            {"sandbox": FRAUD},
            "'environments.dev.useCases.sandbox': 'sandbox' is reserved",
        ),
    ],
    ids=[
        "clash-with-studio",
        "clash-across-use-cases",
        "twice",
        "primary",
        "persona",
        "name",
        "unknown",
        "sandbox",
    ],
)
def test_bad_users_name_their_key(use_cases: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"context key {message}")):
        load_config(_context(use_cases))
