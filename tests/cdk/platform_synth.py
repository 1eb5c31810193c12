"""Helpers to build and synthesize the whole platform the way ``cdk synth`` does (from cdk.json)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from stacks.application import Platform, build_platform
from stacks.config import AppConfig, load_config

ROOT = Path(__file__).resolve().parents[2]


def cdk_context() -> dict[str, Any]:
    """The ``context`` block of cdk.json (config plus feature flags), as ``cdk synth`` sees it."""
    return json.loads((ROOT / "cdk.json").read_text())["context"]


@dataclass(frozen=True)
class SynthesizedPlatform:
    """One synthesized app: its config, stacks, templates (by stack part) and output dir."""

    config: AppConfig
    platform: Platform
    templates: Mapping[str, Template]
    raw: Mapping[str, dict[str, Any]]
    outdir: Path


def synth_platform(
    outdir: Path, *, env: str | None = None, edit: Callable[[dict[str, Any]], None] | None = None
) -> SynthesizedPlatform:
    """Build the whole platform from cdk.json's context (optionally edited) and synthesize it.

    ``app.synth()`` runs every guardrail plugin, so this raises on any unacknowledged finding.
    """
    context = copy.deepcopy(cdk_context())
    if edit is not None:
        edit(context)
    config = load_config(context, env)
    app = cdk.App(context=context, outdir=str(outdir))
    platform = build_platform(app, config)
    assembly = app.synth()
    raw = {
        part: assembly.get_stack_by_name(f"{config.prefix}-{part}").template
        for part in ("data", "network", "studio")
    }
    templates = {part: Template.from_json(template) for part, template in raw.items()}
    return SynthesizedPlatform(config=config, platform=platform, templates=templates, raw=raw, outdir=outdir)


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Resources of one type in a raw template, by logical ID."""
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}
