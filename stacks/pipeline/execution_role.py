"""The pipeline's execution role: what SageMaker Pipelines and its jobs may do, and no more.

SageMaker Pipelines creates each job with this role and each job runs as it (the definition
passes it as every job's ``RoleArn``), so one role covers both: start/describe/stop the
pipeline's own jobs, register versions in this project's model group only, read raw data and the
code bundle, write run outputs, use the project key, write SageMaker logs, and attach ENIs in
the project VPC (those last two: :mod:`stacks.pipeline.execution_runtime`). The policy is a
customer-managed policy (no inline policy, no AWS-managed one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from contracts.layout import DATA_PREFIX, INTERMEDIATES_PREFIX, RUNS_PREFIX
from stacks.common.images import repository_arn
from stacks.common.job_conditions import JobBoundary, job_conditions
from stacks.common.shared import SharedResources
from stacks.pipeline.execution_runtime import arn, runtime_statements
from stacks.tracking.access import attach_tracking_policy

#: SageMaker Pipelines names every job it starts ``pipelines-<execution>-<step>-<hash>``.
JOB_NAME_PREFIX = "pipelines-"


@dataclass(frozen=True, kw_only=True)
class ExecutionRoleProps:
    """Everything the role is scoped to."""

    key: kms.IKey
    artifact_bucket: s3.IBucket
    code_bucket_name: str
    code_object_key: str
    model_package_group_name: str
    model_package_group_arn: str
    image_repository_arn: str
    vpc: ec2.IVpc
    subnet_ids: list[str]
    security_group: ec2.ISecurityGroup
    #: Instance types its jobs may run on (``sagemaker:InstanceTypes``).
    instance_types: Sequence[str]
    #: The role starts training jobs (the drift check does not).
    training_jobs: bool = True
    #: Processing jobs must be network-isolated. The training pipeline's Evaluate step calls the
    #: SageMaker API (champion lookup), so its role cannot require it; the drift check's can.
    isolated_processing: bool = False
    #: IAM path of the role; the training pipeline's is ``contracts.layout.runs_writer_path``.
    runs_writer_path: str | None = None
    #: The environment's MLflow tracking server, which the role logs runs to (None: no tracking).
    tracking_server_name: str | None = None

    @classmethod
    def of(
        cls, scope: Construct, shared: SharedResources, bundle: s3_assets.Asset, registry: str, **options: Any
    ) -> ExecutionRoleProps:
        """A role on ``shared``'s key, bucket, group, network and allowed instance types, running
        ``bundle``'s code on the image of ``registry``'s repository; ``options``: the fields below those."""
        network = shared.network
        return cls(
            key=shared.key,
            artifact_bucket=shared.artifact_bucket,
            code_bucket_name=bundle.s3_bucket_name,
            code_object_key=bundle.s3_object_key,
            model_package_group_name=shared.model_package_group_name,
            model_package_group_arn=shared.model_package_group_arn,
            image_repository_arn=repository_arn(scope, registry),
            vpc=network.vpc,
            subnet_ids=network.subnet_ids,
            security_group=network.security_group,
            instance_types=shared.instances.allowed,
            **options,
        )


class PipelineExecutionRole(Construct):
    """A role SageMaker assumes to run the training pipeline; see the module docstring."""

    def __init__(self, scope: Construct, construct_id: str, *, props: ExecutionRoleProps) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Runs the SageMaker training pipeline and its jobs",
            # The artifact bucket lets only a role on this path write pipeline-runs/.
            path=props.runs_writer_path,
        )
        self.policy = iam.ManagedPolicy(
            self, "Policy", statements=role_statements(self, props, self.role), roles=[self.role]
        )
        if props.tracking_server_name is not None:
            attach_tracking_policy(
                self,
                "TrackingPolicy",
                role=self.role,
                server_name=props.tracking_server_name,
                bucket=props.artifact_bucket,
                write=True,
            )


def role_statements(scope: Construct, p: ExecutionRoleProps, role: iam.IRole) -> list[iam.PolicyStatement]:
    """Every statement of the role, one per need (the drift check's role takes a subset)."""
    return [*_job_statements(scope, p, role), *_storage_statements(p), *_runtime(scope, p)]


def _runtime(scope: Construct, p: ExecutionRoleProps) -> list[iam.PolicyStatement]:
    return runtime_statements(
        scope,
        image_repository_arn=p.image_repository_arn,
        vpc_id=p.vpc.vpc_id,
        security_group_id=p.security_group.security_group_id,
        subnet_ids=p.subnet_ids,
    )


def _job_statements(scope: Construct, p: ExecutionRoleProps, role: iam.IRole) -> list[iam.PolicyStatement]:
    """Start and manage the pipeline's own jobs inside the boundary; register versions for review."""
    kinds = ("processing-job", "training-job") if p.training_jobs else ("processing-job",)
    jobs = {kind: arn(scope, "sagemaker", f"{kind}/{JOB_NAME_PREFIX}*") for kind in kinds}
    boundary = JobBoundary(
        subnet_ids=p.subnet_ids,
        security_group_id=p.security_group.security_group_id,
        key_arn=p.key.key_arn,
        instance_types=p.instance_types,
    )
    registry = [
        p.model_package_group_arn,
        arn(scope, "sagemaker", f"model-package/{p.model_package_group_name}/*"),
    ]
    starts = [
        iam.PolicyStatement(
            sid="StartProcessingJobs",
            actions=["sagemaker:CreateProcessingJob"],
            resources=[jobs["processing-job"]],
            conditions=job_conditions(boundary, network_isolation=p.isolated_processing),
        )
    ]
    if p.training_jobs:
        starts.append(
            iam.PolicyStatement(
                sid="StartTrainingJobs",
                actions=["sagemaker:CreateTrainingJob"],
                resources=[jobs["training-job"]],
                conditions=job_conditions(boundary, network_isolation=True),
            )
        )
    manage = ["sagemaker:AddTags", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob"]
    if p.training_jobs:
        manage += ["sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"]
    return [
        *starts,
        iam.PolicyStatement(sid="PipelineJobs", actions=sorted(manage), resources=list(jobs.values())),
        iam.PolicyStatement(
            sid="RegisterForReview",
            actions=["sagemaker:CreateModelPackage"],
            resources=registry,
            # A version is approved by a person (the approver persona), never by the pipeline.
            conditions={"StringEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}},
        ),
        iam.PolicyStatement(sid="FindModels", actions=["sagemaker:DescribeModelPackage"], resources=registry),
        # ListModelPackages has no resource-level permissions; the evaluate step uses it to
        # find the approved champion (it filters by this project's group name itself).
        iam.PolicyStatement(
            sid="ListModelVersions", actions=["sagemaker:ListModelPackages"], resources=["*"]
        ),
        iam.PolicyStatement(
            sid="PassOwnRoleToJobs",
            actions=["iam:PassRole"],
            resources=[role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        ),
    ]


def _storage_statements(p: ExecutionRoleProps) -> list[iam.PolicyStatement]:
    """Data, runs and intermediates in the artifact bucket, the code bundle, and the data key."""
    bucket = p.artifact_bucket
    code_bucket_arn = f"arn:{cdk.Aws.PARTITION}:s3:::{p.code_bucket_name}"
    return [
        iam.PolicyStatement(
            sid="ListDataAndRuns",
            actions=["s3:ListBucket"],
            resources=[bucket.bucket_arn],
            conditions={
                "StringLike": {
                    "s3:prefix": [f"{DATA_PREFIX}*", f"{RUNS_PREFIX}*", f"{INTERMEDIATES_PREFIX}*"]
                }
            },
        ),
        iam.PolicyStatement(
            sid="ReadData", actions=["s3:GetObject"], resources=[bucket.arn_for_objects(f"{DATA_PREFIX}*")]
        ),
        iam.PolicyStatement(
            sid="ReadWriteRuns",
            actions=["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
            resources=[
                bucket.arn_for_objects(f"{prefix}*") for prefix in (RUNS_PREFIX, INTERMEDIATES_PREFIX)
            ],
        ),
        iam.PolicyStatement(
            sid="ReadCodeBundle",
            actions=["s3:GetObject"],
            resources=[f"{code_bucket_arn}/{p.code_object_key}"],
        ),
        iam.PolicyStatement(
            sid="ListCodeBundle",
            actions=["s3:ListBucket"],
            resources=[code_bucket_arn],
            conditions={"StringEquals": {"s3:prefix": p.code_object_key}},
        ),
        iam.PolicyStatement(
            sid="UseProjectKey",
            actions=["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
            resources=[p.key.key_arn],
        ),
        # Job volumes are encrypted through grants SageMaker creates on the job's behalf.
        iam.PolicyStatement(
            sid="GrantKeyToJobVolumes",
            actions=["kms:CreateGrant"],
            resources=[p.key.key_arn],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    ]
