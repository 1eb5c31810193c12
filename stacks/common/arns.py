"""ARNs several concerns build from a name (the resource lives elsewhere, or is named before it exists)."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


def pipeline_arn(scope: IConstruct, name: str) -> str:
    """ARN of the SageMaker pipeline ``name`` in ``scope``'s account and region (SageMaker lower-cases
    pipeline names in ARNs)."""
    return cdk.Stack.of(scope).format_arn(
        service="sagemaker", resource="pipeline", resource_name=name.lower()
    )
