"""One endpoint stack on small stand-in dependencies, for tests that vary a stage cheaply.

The key, bucket, VPC, security group and topic live in another stack (``Deps``,
:mod:`stand_ins`), so references cross stacks as in the platform; the app carries cdk.json's
context (its feature flags).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import aws_cdk as cdk
from platform_synth import APPROVED, cdk_context
from stand_ins import shared_resources, with_network_and_topic

from contracts.config import StageConfig, load_config
from stacks.endpoint_stack import EndpointStack

CONFIG = load_config(cdk_context())


def build(
    stage: StageConfig,
    *,
    prefix: str = "mlops-demo-dev",
    version: int = APPROVED.version,
    cidr: str = "10.42.0.0/16",
    subnet_ids: Sequence[str] | None = None,
) -> EndpointStack:
    """The stage's endpoint stack in a fresh app; ``subnet_ids``: existing subnets instead of new ones."""
    app = cdk.App(context=cdk_context())
    deps = cdk.Stack(app, "Deps")
    shared = dataclasses.replace(shared_resources(deps, CONFIG), prefix=prefix)
    shared = with_network_and_topic(shared, deps, cidr=cidr, subnet_ids=subnet_ids)
    approved = APPROVED.model_copy(
        update={
            "version": version,
            "model_package_arn": APPROVED.model_package_arn.rsplit("/", 1)[0] + f"/{version}",
        }
    )
    return EndpointStack(
        app,
        f"{prefix}-endpoint-{stage.name}",
        config=dataclasses.replace(stage, approved_model=approved),
        shared=shared,
    )
