"""What the batch scoring role may do: the training role's processing, code, key, image, logs and
VPC statements, minus what scoring never does (train, register or list versions, write training
runs), plus: read ``pipeline-runs/*`` (the version's model and baseline), list and write
``batch-scores/*``, create the run's model (network-isolated, in the project VPC) and its Transform
job (data key on volume and output, allowed instance types), and invoke ResolveModel. The model's
container runs as this role too (the model's ``ExecutionRoleArn``): image, model data, key, ENIs.

The ResolveModel function's own role lists and describes the group's versions; the pipeline role
only describes them (CreateModel from a package reads it).
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from contracts.layout import BATCH_SCORES_PREFIX, DATA_PREFIX, RUNS_PREFIX
from stacks.batch.props import BatchPipelineProps
from stacks.common.job_conditions import JobBoundary, job_conditions, model_conditions
from stacks.pipeline.execution_role import JOB_NAME_PREFIX, ExecutionRoleProps, role_statements
from stacks.pipeline.execution_runtime import arn

#: Of the training role's statements, what scoring never does.
_NOT_NEEDED = frozenset({"RegisterForReview", "ListModelVersions", "ReadWriteRuns", "ListDataAndRuns"})


def batch_statements(
    scope: Construct,
    props: BatchPipelineProps,
    *,
    role: iam.IRole,
    registry: str,
    resolver: lambda_.IFunction,
) -> list[iam.PolicyStatement]:
    """Every statement of the batch role (see the module docstring)."""
    shared, bundle = props.shared, props.bundle
    # ScoreReport is one processing job, network-isolated
    role_props = ExecutionRoleProps.of(
        scope, shared, bundle, registry, training_jobs=False, isolated_processing=True
    )
    kept = [s for s in role_statements(scope, role_props, role) if s.sid not in _NOT_NEEDED]
    return [
        *kept,
        *_storage(props),
        *_model_and_transform(scope, props),
        iam.PolicyStatement(
            sid="ResolveModelStep", actions=["lambda:InvokeFunction"], resources=[resolver.function_arn]
        ),
    ]


def _storage(props: BatchPipelineProps) -> list[iam.PolicyStatement]:
    bucket = props.shared.artifact_bucket
    return [
        iam.PolicyStatement(  # the training role's listing without pipeline-intermediates/ (never read)
            sid="ListDataAndRuns",
            actions=["s3:ListBucket"],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{DATA_PREFIX}*", f"{RUNS_PREFIX}*"]}},
        ),
        iam.PolicyStatement(
            sid="ReadModelsAndBaselines",
            actions=["s3:GetObject"],
            resources=[bucket.arn_for_objects(f"{RUNS_PREFIX}*")],
        ),
        iam.PolicyStatement(
            sid="ListBatchScores",
            actions=["s3:ListBucket"],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{BATCH_SCORES_PREFIX}*"]}},
        ),
        iam.PolicyStatement(
            sid="WriteBatchScores",
            actions=["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
            resources=[bucket.arn_for_objects(f"{BATCH_SCORES_PREFIX}*")],
        ),
    ]


def _model_and_transform(scope: Construct, props: BatchPipelineProps) -> list[iam.PolicyStatement]:
    """The run's model (isolated, in the VPC) and its Transform job (data key, allowed instances)."""
    shared = props.shared
    boundary: JobBoundary = shared.job_boundary
    transforms = arn(scope, "sagemaker", f"transform-job/{JOB_NAME_PREFIX}*")
    models = arn(scope, "sagemaker", "model/*")
    transform_conditions = job_conditions(boundary, network_isolation=False)
    # A Transform job has no VPC or traffic keys of its own (the model carries the VPC).
    for kind in ("Null", "ForAllValues:StringEquals"):
        transform_conditions[kind] = {
            k: v for k, v in transform_conditions[kind].items() if k == "sagemaker:InstanceTypes"
        }
    del transform_conditions["Bool"]
    return [
        iam.PolicyStatement(
            sid="CreateRunModel",
            actions=["sagemaker:CreateModel"],
            resources=[models],
            conditions=model_conditions(boundary),
        ),
        iam.PolicyStatement(
            sid="StartTransformJobs",
            actions=["sagemaker:CreateTransformJob"],
            resources=[transforms],
            conditions=transform_conditions,
        ),
        iam.PolicyStatement(
            sid="ManageRunJobs",
            actions=["sagemaker:AddTags", "sagemaker:DescribeTransformJob", "sagemaker:StopTransformJob"],
            resources=[transforms],
        ),
        iam.PolicyStatement(
            sid="DescribeRunModels",
            actions=["sagemaker:AddTags", "sagemaker:DescribeModel"],
            resources=[models],
        ),
    ]
