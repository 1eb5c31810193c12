"""Helpers for guardrail tests: synthesize a small app and collect the rule IDs of its findings."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk

from stacks.guardrails.sagemaker_pack import SageMakerChecks

PACKS = {"AwsSolutions", "NIST.800.53.R5", "SageMakerChecks"}


def findings(app: cdk.App) -> set[str]:
    """Synthesize ``app``; return the rule IDs of every finding (empty when synth succeeds)."""
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
        report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
        return {
            violation["ruleName"]
            for plugin in report["pluginReports"]
            if plugin["pluginName"] in PACKS  # not CDK's built-in CloudFormation checks
            for violation in plugin["violations"]
        }
    return set()


def tiny_app(tmp_path: Path, *, production: bool = False) -> tuple[cdk.App, cdk.Stack]:
    """An app with only our SageMaker pack, and its one stack ``Tiny``."""
    app = cdk.App(outdir=str(tmp_path))
    cdk.Validations.of(app).add_plugins(SageMakerChecks(production=production))
    return app, cdk.Stack(app, "Tiny")
