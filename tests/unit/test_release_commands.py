"""Every release-tool command the delivery builds run is one the tool's own parser accepts.

The buildspecs are strings (stacks/delivery/commands.py); a renamed or missing flag would only
fail in CodeBuild. Each ``python -m release.<tool>`` line is parsed here by that tool, with the
shell variables the build sets replaced by values of the right kind.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from contracts.config import AppConfig, load_config
from release import live, release_tag, resolve, smoke, start_pipeline
from stacks.delivery import commands

PARSERS: dict[str, Any] = {
    "release.live": live.parse_args,
    "release.release_tag": release_tag.parse_args,
    "release.resolve": resolve.parse_args,
    "release.smoke": smoke.parse_args,
    "release.start_pipeline": start_pipeline.parse_args,
}
SHELL_VALUES = {"$MODEL_VERSION": "7", "$CODEBUILD_RESOLVED_SOURCE_VERSION": "abc1234"}
#: Where a tool's arguments end inside a compound shell command (`if … ; then … ; fi`).
SHELL_WORDS = frozenset({";", "then", "&&", "||"})


@pytest.fixture(scope="module")
def config() -> AppConfig:
    context = json.loads(Path("cdk.json").read_text())["context"]
    return load_config({k: context[k] for k in ("env", "project", "environments")}, "dev")


def every_command(config: AppConfig) -> list[str]:
    prefix, group = config.prefix, f"{config.prefix}-models"
    staging, prod = config.env.stage("staging"), config.env.stage("prod")
    return [
        *commands.build_commands(env="dev", prefix=prefix),
        *commands.build_commands(env="dev", prefix=prefix, tracked=True),
        *commands.staging_commands(env="dev", prefix=prefix, group=group, stage=staging),
        *commands.prod_commands(env="dev", prefix=prefix, group=group, stage=prod, staged_file="s.json"),
        *commands.ship_commands(env="dev", prefix=prefix, group=group, stage=prod, version="3"),
        # a stage in another account: smoke-tested through its role, its version tagged as shipped
        *commands.ship_commands(
            env="dev", prefix=prefix, group=group, stage=prod, version="3", smoke_role="arn:aws:iam::2:role/s"
        ),
    ]


def test_every_release_command_parses(config: AppConfig) -> None:
    parsed = []
    for command in every_command(config):
        text = command
        for name, value in SHELL_VALUES.items():
            text = text.replace(name, value)
        words = shlex.split(text)
        for at, word in enumerate(words[:-1]):
            if word == "-m" and words[at + 1] in PARSERS:
                tool, rest = words[at + 1], words[at + 2 :]
                end = next((i for i, w in enumerate(rest) if w in SHELL_WORDS), len(rest))
                PARSERS[tool](rest[:end])  # argparse exits 2 on an unknown or malformed flag
                parsed.append(tool)
    assert set(parsed) == set(PARSERS), "a tool the builds should run is not among their commands"


def test_the_smoke_command_matches_the_stage_mode(config: AppConfig) -> None:
    # `make promote` runs `release.smoke --env dev --stage prod`; the pipeline spells it out
    prod = config.env.stage("prod")
    spelled = shlex.split(commands.smoke(prefix=config.prefix, stage=prod))[3:]
    from_build = smoke.parse_args(spelled)
    from_stage = smoke.parse_args(["--env", "dev", "--stage", "prod"], Path.cwd())
    assert from_build.endpoint == from_stage.endpoint
    assert Path.cwd() / from_build.model_file == from_stage.model_file
    assert (from_build.samples, from_build.max_latency_ms) == (from_stage.samples, from_stage.max_latency_ms)


def test_flags_must_be_spelled_out() -> None:
    # argparse would otherwise accept "--max-latency" for "--max-latency-ms" and hide a typo
    with pytest.raises(SystemExit):
        smoke.parse_args(["--endpoint", "e", "--model-file", "m.json", "--max-latency", "5"])
