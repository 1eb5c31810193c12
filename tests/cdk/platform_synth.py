"""Helpers to build and synthesize the whole platform the way ``cdk synth`` does (from cdk.json)."""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from contracts.approved_model import ApprovedModel
from contracts.config import AppConfig, load_config
from stacks.application import Platform, build_platform

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


#: The approved model version the synthesized endpoint stages serve in tests.
APPROVED = ApprovedModel(
    model_package_arn="arn:aws:sagemaker:eu-west-1:111122223333:model-package/mlops-demo-dev-models/3",
    model_package_group="mlops-demo-dev-models",
    version=3,
    image_uri="141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5",
    model_data_url="s3://artifacts-bucket/pipeline-runs/exec-1/train/output/model.tar.gz",
    environment={"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"},
    baseline_statistics_uri="s3://artifacts-bucket/pipeline-runs/exec-1/preprocess/baseline/statistics.json",
    baseline_constraints_uri="s3://artifacts-bucket/pipeline-runs/exec-1/preprocess/baseline/constraints.json",
    smoke_samples_uri="s3://artifacts-bucket/pipeline-runs/exec-1/preprocess/test/smoke-samples.json",
)


#: A challenger of :data:`APPROVED` (the next version of its group), for stages shadow-tested.
SHADOW = APPROVED.model_copy(
    update={"version": 4, "model_package_arn": APPROVED.model_package_arn.rsplit("/", 1)[0] + "/4"}
)


def approved_project_root(
    root: Path, context: Mapping[str, Any], env: str | None = None, *, shadow: bool = False
) -> Path:
    """Write :data:`APPROVED` to every endpoint stage's model file under ``root``; return ``root``.
    With ``shadow``, the stages configured with a shadow test serve :data:`SHADOW` as their shadow."""
    config = load_config(context, env)
    for stage in config.env.endpoints:
        challenger = SHADOW if shadow and stage.shadow is not None else None
        APPROVED.model_copy(update={"shadow": challenger}).write(root / stage.model_file)
    for case in config.use_cases:  # each additional use case's own stages (issue 18)
        for stage in case.stages or ():
            APPROVED.write(root / stage.model_file)
    return root


#: Each test process's synthesized apps, by what decides them (the edited context, the
#: environment, approved or not, with a shadow or not): several modules synthesize the same
#: configuration (the shipped app, the multi-account and use-case variants), and a whole-app synth
#: is seconds of CPU.
_SYNTHESIZED: dict[str, SynthesizedPlatform] = {}


def synth_platform(
    outdir: Path,
    *,
    env: str | None = None,
    edit: Callable[[dict[str, Any]], None] | None = None,
    approved: bool = True,
    shadow: bool = False,
    fresh: bool = False,
) -> SynthesizedPlatform:
    """Build the whole platform from cdk.json's context (optionally edited) and synthesize it.

    ``app.synth()`` runs every guardrail plugin, so this raises on any unacknowledged finding.
    With ``approved`` (the default) every endpoint stage has an approved model, so the endpoint
    stacks are synthesized too; without it they are absent, as on a fresh clone. With ``shadow``
    too, a stage configured with a shadow test (the shipped prod) serves a challenger beside it.

    A configuration this process has synthesized before comes back as it was (its first
    ``outdir``, its templates; ``raw`` copied, so a test that edits it edits its own), unless
    ``fresh``: a test comparing two synths, or one that patches what the app builds, must ask
    for its own (and a fresh synth is not kept for others).
    """
    context = copy.deepcopy(cdk_context())
    if edit is not None:
        edit(context)
    key = json.dumps([context, env, approved, shadow], sort_keys=True)
    if not fresh and key in _SYNTHESIZED:
        known = _SYNTHESIZED[key]
        return dataclasses.replace(known, raw=copy.deepcopy(dict(known.raw)))
    synthesized = _synthesize(outdir, context, env, approved, shadow)
    if not fresh:
        _SYNTHESIZED[key] = synthesized
    return dataclasses.replace(synthesized, raw=copy.deepcopy(dict(synthesized.raw)))


def _synthesize(
    outdir: Path, context: dict[str, Any], env: str | None, approved: bool, shadow: bool
) -> SynthesizedPlatform:
    root = approved_project_root(outdir / "project", context, env, shadow=shadow) if approved else None
    config = load_config(context, env, project_root=root)
    app = cdk.App(context=context, outdir=str(outdir))
    platform = build_platform(app, config)
    assembly = app.synth()
    # Every stack but the training pipeline (its template embeds the whole definition and has
    # its own fixture in test_pipeline_stack.py), keyed by the part after the prefix.
    raw = {
        stack.stack_name.removeprefix(f"{config.prefix}-"): stack.template
        for stack in assembly.stacks
        if stack.stack_name != f"{config.prefix}-pipeline"
    }
    templates = {part: Template.from_json(template) for part, template in raw.items()}
    return SynthesizedPlatform(config=config, platform=platform, templates=templates, raw=raw, outdir=outdir)


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Resources of one type in a raw template, by logical ID."""
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def values_of(value: Any, key: str) -> list[Any]:
    """Every value under ``key`` anywhere in a template fragment (e.g. each ``Fn::GetStackOutput``)."""
    if isinstance(value, dict):
        found = [value[key]] if key in value else []
        return found + [v for item in value.values() for v in values_of(item, key)]
    if isinstance(value, list):
        return [v for item in value for v in values_of(item, key)]
    return []


def cfn_lint(templates: list[str]) -> tuple[int, str]:
    """cfn-lint's exit code and findings (parseable, one per line) for the template files."""
    command = [str(Path(sys.executable).with_name("cfn-lint")), "--format", "parseable", "--", *templates]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    return result.returncode, (result.stdout + result.stderr).strip()
