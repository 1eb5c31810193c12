"""cdk-nag and guardrail findings of one stack of an app (its stand-in dependencies left out)."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from nag_findings import PACKS


def stack_findings(app: cdk.App, stack_name: str) -> set[str]:
    """``<rule>@<construct path>`` of every finding in ``stack_name`` (empty: none)."""
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
        report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
        return {
            f"{violation['ruleName']}@{construct['constructPath']}"
            for plugin in report["pluginReports"]
            if plugin["pluginName"] in PACKS
            for violation in plugin["violations"]
            for construct in violation["violatingConstructs"]
            if construct["constructPath"].startswith(f"{stack_name}/")
        }
    return set()
