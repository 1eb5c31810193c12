"""What a deploy build's role may do to ship a version to a stage (or, ``smoke`` off, only deploy it)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from contracts.config import StageConfig
from contracts.names import endpoint_name
from stacks.delivery import role_policies
from stacks.delivery.deploy_props import DeployPipelineProps
from stacks.delivery.stage_accounts import StageAccount


def ship_statements(
    scope: Construct,
    p: DeployPipelineProps,
    stage: StageConfig,
    into: StageAccount | None,
    *,
    smoke_test: bool = True,
) -> list[iam.PolicyStatement]:
    """Deploy through the bootstrap roles, read the registry, smoke-test the stage's endpoint.

    A stage in another account (``into``): that account's bootstrap roles and its smoke role, no
    endpoint of the tooling account, and tagging the shipped version so that account may read it;
    samples and registry are read here either way. Without ``smoke_test`` (the Shadow build, which
    deploys prod with a shadow and does not ship): only deploy and read the registry.
    """
    stack = cdk.Stack.of(scope)
    deploy = role_policies.cdk_deploy(stack, qualifier=p.qualifier, into=into)
    if not smoke_test:
        return [deploy, *role_policies.read_registry(stack, p.group)]
    if into is None:
        endpoint = endpoint_name(p.prefix, stage.name)
        smoke = role_policies.smoke_test(
            stack, endpoint=endpoint, bucket=p.artifact_bucket, key=p.key,
            asynchronous=stage.async_inference is not None,
        )  # fmt: skip
    else:
        smoke = [
            role_policies.smoke_test_through(into),
            *role_policies.read_smoke_samples(bucket=p.artifact_bucket, key=p.key),
            role_policies.tag_shipped_version(p.artifact_bucket),
        ]
    if p.tracking_server_arn is not None:
        smoke.append(role_policies.tag_tracked_runs(p.tracking_server_arn))
    return [deploy, *role_policies.read_registry(stack, p.group), *smoke]
