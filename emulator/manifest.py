"""Where a cloud assembly's manifest (``manifest.json``) deploys each stack.

``cdk synth`` writes each stack artifact's environment (``aws://<account>/<region>``, or
``aws://unknown-account/unknown-region`` for an env-agnostic stack) and the role ``cdk deploy``
assumes to deploy it (the CDK bootstrap deploy role of that account). The emulator reads them
to act in the account a stack belongs to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: What ``cdk synth`` writes for an environment it leaves to the deploying credentials.
UNKNOWN = ("unknown-account", "unknown-region")


@dataclass(frozen=True)
class StackTarget:
    """Where one stack deploys; None: wherever the deploying credentials are (env-agnostic)."""

    account: str | None = None
    region: str | None = None
    #: The role ``cdk deploy`` assumes for the stack, as written (``${AWS::Partition}`` and, for an
    #: env-agnostic stack, ``${AWS::AccountId}``/``${AWS::Region}`` placeholders left in).
    deploy_role_arn: str | None = None


def parse_environment(text: str) -> tuple[str | None, str | None]:
    """``aws://<account>/<region>`` -> (account, region), None for CDK's ``unknown-*`` parts.

    Raises:
        ValueError: ``text`` is not an ``aws://`` environment.
    """
    if not text.startswith("aws://") or text.count("/") != 3:
        raise ValueError(f"not a cloud assembly environment (aws://<account>/<region>): {text!r}")
    account, region = text.removeprefix("aws://").split("/")
    return (None if account == UNKNOWN[0] else account), (None if region == UNKNOWN[1] else region)


def read_targets(directory: Path) -> dict[str, StackTarget]:
    """Each stack's target, by stack name (its template file's stem), from ``directory``'s
    ``manifest.json``; empty when there is none (templates written by hand)."""
    path = directory / "manifest.json"
    if not path.is_file():
        return {}
    artifacts: dict[str, Any] = json.loads(path.read_text()).get("artifacts", {})
    targets = {}
    for artifact_id, artifact in artifacts.items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        properties = artifact.get("properties", {})
        stack = str(properties.get("templateFile", f"{artifact_id}.template.json"))
        account, region = parse_environment(
            str(artifact.get("environment", "aws://unknown-account/unknown-region"))
        )
        targets[stack.removesuffix(".template.json")] = StackTarget(
            account=account, region=region, deploy_role_arn=properties.get("assumeRoleArn")
        )
    return targets
