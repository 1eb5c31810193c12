#!/usr/bin/env python3
"""CDK entry point: the only reader of CDK context.

Pick an environment with ``-c env=NAME`` (default: the ``env`` key in cdk.json).
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk

from contracts.config import load_config
from stacks.application import build_platform

CONTEXT_KEYS = ("env", "project", "environments", "approvedModelRoot")


def main() -> None:
    synthesize(cdk.App())


def synthesize(app: cdk.App) -> None:
    """Build the platform from ``app``'s context and synthesize it into the app's output folder
    (what ``cdk synth`` runs; the end-to-end tests also call it in their own process)."""
    context = {key: app.node.try_get_context(key) for key in CONTEXT_KEYS}
    # Approved-model files (written by `python -m release.resolve`) are read relative to the
    # project root, or to `-c approvedModelRoot=DIR` (the offline demo keeps its own there).
    root = context.pop("approvedModelRoot", None)
    config = load_config(
        {k: v for k, v in context.items() if v is not None},
        project_root=Path(str(root)) if root else Path(__file__).parent,
    )
    build_platform(app, config)
    app.synth()


if __name__ == "__main__":
    main()
