"""Guardrails in the build: cdk-nag packs plus our SageMaker pack, as validation plugins.

Every finding fails ``app.synth()`` (and so ``cdk synth``) unless acknowledged on the
narrowest construct with a reason (``stacks.common.nag.acknowledge``).
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks

from stacks.guardrails.sagemaker_pack import SageMakerChecks


def add_guardrails(app: cdk.App, *, production: bool) -> None:
    """Register AwsSolutions, NIST 800-53 rev 5 and SageMakerChecks on ``app``."""
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app), NIST80053R5Checks(app), SageMakerChecks(production=production)
    )
