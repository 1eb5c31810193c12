"""How the delivery CodePipelines are made: V2, KMS artifact store, one run at a time per stage."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.delivery.acknowledgements import acknowledge_artifact_grants


def v2_pipeline(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    bucket: s3.IBucket,
    stages: Sequence[codepipeline.StageProps],
    triggers: Sequence[codepipeline.TriggerProps] | None = None,
) -> codepipeline.Pipeline:
    """A V2 pipeline storing artifacts in ``bucket`` (encrypted with the bucket's KMS key).

    SUPERSEDED execution mode: a newer run (a newer push, a newer approval) overtakes an older one
    waiting between stages, so a stale version is never deployed after a newer one. The pipeline is
    not restarted by its own stack updates (``restart_execution_on_update`` False).
    """
    pipeline = codepipeline.Pipeline(
        scope,
        construct_id,
        pipeline_name=name,
        pipeline_type=codepipeline.PipelineType.V2,
        execution_mode=codepipeline.ExecutionMode.SUPERSEDED,
        artifact_bucket=bucket,
        restart_execution_on_update=False,
        stages=list(stages),
        triggers=None if triggers is None else list(triggers),
    )
    _drop_redundant_role_dependency(pipeline)
    acknowledge_artifact_grants(pipeline, bucket)
    return pipeline


def _drop_redundant_role_dependency(pipeline: codepipeline.Pipeline) -> None:
    """CDK makes the pipeline DependsOn its role as well as GetAtt its ARN; cfn-lint flags the
    duplicate (W3005). Keep only the dependency on the role's policy."""
    cfn = pipeline.node.default_child
    policy = pipeline.role.node.try_find_child("DefaultPolicy")
    if isinstance(cfn, cdk.CfnResource) and policy is not None:
        cfn_policy = policy.node.default_child
        if isinstance(cfn_policy, cdk.CfnElement):
            cfn.add_override("DependsOn", [cdk.Stack.of(pipeline).get_logical_id(cfn_policy)])
