"""One helper to acknowledge a guardrail finding on the narrowest construct, with its reason."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one finding (``AwsSolutions-IAM5[Action::s3:List*]``-style id) on ``construct``.

    Acknowledgements apply to the construct and everything below it, so callers pass the
    narrowest construct that carries the finding (a role's policy, not the stack).
    """
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))
