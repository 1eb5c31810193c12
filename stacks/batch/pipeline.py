"""The batch scoring pipeline ``<prefix>-batch-score``, its least-privilege role and ResolveModel.

Built beside the training pipeline in its stack (the same source bundle and image), only when
``batch.enabled``: nothing of it runs between runs, so idle it costs what its runs left in S3.
The role (:mod:`.role`) may create the run's model and Transform job only inside the project's
boundary; the ResolveModel function (``functions/resolve_model.py``) may only list and describe the
group's versions. Failed runs notify the alert topic (the monitoring stack's failed-run rule names
this pipeline); ``batch.schedule`` starts it (:mod:`.schedule`).
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from contracts.layout import BATCH_SCORES_PREFIX, DATA_PREFIX, RUNS_PREFIX
from stacks.batch.definition import BatchDefinitionProps, definition_json
from stacks.batch.props import BatchPipelineProps
from stacks.batch.requests import TransformSettings
from stacks.batch.role import batch_statements
from stacks.common.arns import pipeline_arn
from stacks.common.images import registry_account
from stacks.common.nag import IAM5, account_arn, acknowledge
from stacks.monitoring.functions import FunctionProps, PythonFunction
from stacks.pipeline.acknowledgements import acknowledge_role_wildcards
from stacks.pipeline.execution_runtime import arn
from stacks.pipeline.placeholders import DeployValues, job_settings, var

#: Why each wildcard of the role on the artifact bucket is needed.
_PREFIXES = {
    DATA_PREFIX: "Reads the batch input under data/ (the InputDataUri parameter, default data/batch/).",
    RUNS_PREFIX: "Reads the chosen version's model.tar.gz and drift baseline under "
    "pipeline-runs/<execution>/; the version is chosen at run time.",
    BATCH_SCORES_PREFIX: "Each run writes its predictions and report under batch-scores/<execution id>/.",
}


class BatchPipeline(Construct):
    """``CfnPipeline`` ``<prefix>-batch-score`` (``pipeline``), its ``role`` and ``resolver``."""

    def __init__(self, scope: Construct, construct_id: str, *, props: BatchPipelineProps) -> None:
        super().__init__(scope, construct_id)
        shared = props.shared
        registry = registry_account(self, "ImageRegistry")
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Runs the batch scoring pipeline, its model, Transform job and report",
        )  # fmt: skip
        self.resolver = self._resolver(props)
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            statements=batch_statements(
                self, props, role=self.role, registry=registry, resolver=self.resolver.function
            ),
            roles=[self.role],
        )
        self._acknowledge(props)
        values = DeployValues(
            artifact_bucket=shared.artifact_bucket.bucket_name,
            code_bucket=props.bundle.s3_bucket_name,
            image_registry=registry,
            key_arn=shared.key.key_arn,
            role_arn=self.role.role_arn,
            security_group_id=shared.network.security_group.security_group_id,
            subnet_ids=shared.network.subnet_ids,
            extra={
                "ModelPackageGroup": shared.model_package_group_name,
                "ResolverArn": self.resolver.function.function_arn,
            },
        )
        self.pipeline = sagemaker.CfnPipeline(
            self,
            "Pipeline",
            pipeline_name=props.name,
            pipeline_description="Score a batch of CSV rows with the newest Approved model version",
            role_arn=self.role.role_arn,
            pipeline_definition={"PipelineDefinitionBody": values.definition_body(_definition(props))},
        )
        self.pipeline.node.add_dependency(self.policy)
        self.arn = pipeline_arn(self, props.name)

    def _acknowledge(self, props: BatchPipelineProps) -> None:
        shared = props.shared
        acknowledge_role_wildcards(
            self.policy,
            bucket=shared.artifact_bucket,
            bucket_prefixes=_PREFIXES,
            group_name=shared.model_package_group_name,
        )
        acknowledge(
            self.policy,
            f"{IAM5}[Resource::{account_arn(self.policy, 'sagemaker', 'transform-job/pipelines-*')}]",
            "SageMaker Pipelines names each Transform job pipelines-<execution>-<step>-<hash> at run time; "
            "creation is held to the data key and the allowed instance types.",
        )
        acknowledge(
            self.policy,
            f"{IAM5}[Resource::{account_arn(self.policy, 'sagemaker', 'model/*')}]",
            "SageMaker Pipelines names the model a Model step creates at run time (no documented prefix); "
            "creation requires network isolation and the project's subnets and security group, and the "
            "role can only describe and tag models.",
        )

    def _resolver(self, props: BatchPipelineProps) -> PythonFunction:
        """ResolveModel's function: lists and describes the group's versions, nothing else."""
        shared = props.shared
        versions = f"model-package/{shared.model_package_group_name}/*"
        resolver = PythonFunction(
            self,
            "ResolveModel",
            props=FunctionProps(
                handler="resolve_model.handler",
                description="Finds the newest Approved version of the model package group for a batch run",
                key=shared.key,
                statements=[
                    # ListModelPackages has no resource-level permissions (it is told the group).
                    iam.PolicyStatement(
                        sid="ListVersions", actions=["sagemaker:ListModelPackages"], resources=["*"]
                    ),
                    iam.PolicyStatement(
                        sid="DescribeVersions",
                        actions=["sagemaker:DescribeModelPackage"],
                        resources=[arn(self, "sagemaker", versions)],
                    ),
                ],
            ),
        )
        acknowledge(
            resolver.policy,
            f"{IAM5}[Resource::*]",
            "sagemaker:ListModelPackages only: it has no resource-level permissions; the function names "
            "its own model package group.",
        )
        acknowledge(
            resolver.policy,
            f"{IAM5}[Resource::{account_arn(resolver.policy, 'sagemaker', versions)}]",
            "Versions are named <group>/<n> at registration; limited to this use case's model package group.",
        )
        return resolver


def _definition(props: BatchPipelineProps) -> str:
    """The definition JSON, with :mod:`stacks.pipeline.placeholders` for deploy-time values."""
    config, shared = props.scoring.config, props.shared
    return definition_json(
        BatchDefinitionProps(
            job=job_settings(
                subnet_count=len(shared.network.subnets), max_runtime_seconds=props.max_runtime_seconds
            ),
            artifact_bucket=var("ArtifactBucket"),
            code_uri=f"s3://{var('CodeBucket')}/{props.bundle.s3_object_key}",
            resolve_function_arn=var("ResolverArn"),
            model_package_group_name=var("ModelPackageGroup"),
            problem_type=props.problem_type,
            input_uri=config.input_uri_for(var("ArtifactBucket")),
            transform=TransformSettings(
                instance_type=props.instance_type,
                instance_count=config.instance_count,
                max_payload_mb=config.max_payload_mb,
                max_concurrent_transforms=config.max_concurrent_transforms,
            ),
            report_instance_type=shared.instances.processing,
            key_column=config.key_column,
            drift_check=config.drift_check,
            threshold=props.scoring.monitoring.drift_threshold,
        )
    )
