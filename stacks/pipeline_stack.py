"""The training pipeline stack: the SageMaker Pipeline, its execution role and its code asset.

The definition is generated in Python (``stacks.pipeline.definition``) with ``${Name}``
placeholders for everything only known at deploy time; ``PipelineDefinitionBody`` is an
``Fn::Sub`` of that JSON, so CloudFormation fills in the role, bucket, key, VPC, code location
and the region's XGBoost image. The code is one deterministic ``sourcedir.tar.gz`` file asset.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from contracts.config import AppConfig
from contracts.layout import DATA_PREFIX, INTERMEDIATES_PREFIX, RUNS_PREFIX, runs_writer_path
from contracts.names import training_pipeline_name
from stacks.common.images import XGBOOST_REPOSITORY, image_uri, xgboost_registries
from stacks.pipeline.acknowledgements import acknowledge_role_wildcards
from stacks.pipeline.definition import build_definition
from stacks.pipeline.execution_role import ExecutionRoleProps, PipelineExecutionRole
from stacks.pipeline.props import DefinitionProps
from stacks.pipeline.requests import JobSettings
from stacks.pipeline.source_bundle import build_bundle

_ROOT: Final = Path(__file__).resolve().parent.parent
#: Where the source bundle is written (gitignored; `make clean` empties it).
DEFAULT_BUILD_DIR: Final = _ROOT / ".build" / "pipeline"
DEFAULT_SOURCE_DIR: Final = _ROOT / "ml_code"


def _var(name: str) -> str:
    return "${" + name + "}"


def _subnet_ids(vpc: ec2.IVpc, subnets: ec2.SubnetSelection | Sequence[ec2.ISubnet]) -> list[str]:
    if isinstance(subnets, ec2.SubnetSelection):
        # jsii structs keep their fields in ``_values``; select_subnets takes them as keywords.
        return vpc.select_subnets(**subnets._values).subnet_ids
    return [subnet.subnet_id for subnet in subnets]


class PipelineStack(cdk.Stack):
    """The SageMaker training pipeline (preprocess, train, evaluate, gate, register)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        key: kms.IKey,
        artifact_bucket: s3.IBucket,
        model_package_group_name: str,
        model_package_group_arn: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection | Sequence[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        source_dir: Path = DEFAULT_SOURCE_DIR,
        build_dir: Path = DEFAULT_BUILD_DIR,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        bundle = s3_assets.Asset(self, "SourceBundle", path=str(build_bundle(source_dir, build_dir)))
        registries = cdk.CfnMapping(
            self,
            "XgboostImageRegistry",
            mapping={region: {"Account": account} for region, account in xgboost_registries().items()},
        )
        registry = registries.find_in_map(cdk.Aws.REGION, "Account")
        subnet_ids = _subnet_ids(vpc, subnets)
        self.execution_role = PipelineExecutionRole(
            self,
            "ExecutionRole",
            props=ExecutionRoleProps(
                key=key,
                artifact_bucket=artifact_bucket,
                code_bucket_name=bundle.s3_bucket_name,
                code_object_key=bundle.s3_object_key,
                model_package_group_name=model_package_group_name,
                model_package_group_arn=model_package_group_arn,
                image_repository_arn=cdk.Stack.of(self).format_arn(
                    service="ecr", account=registry, resource="repository", resource_name=XGBOOST_REPOSITORY
                ),
                vpc=vpc,
                subnet_ids=subnet_ids,
                security_group=security_group,
                instance_types=config.env.instances.allowed,
                runs_writer_path=runs_writer_path(config.prefix),
            ),
        )
        acknowledge_role_wildcards(
            self.execution_role.policy,
            bucket=artifact_bucket,
            bucket_prefixes={
                DATA_PREFIX: "Reads the raw training data under data/ (the InputDataUri parameter).",
                RUNS_PREFIX: "Jobs write and read their outputs under pipeline-runs/<execution id>/.",
                INTERMEDIATES_PREFIX: "Splits and checkpoints under pipeline-intermediates/<execution id>/ "
                "(expire by lifecycle).",
            },
            group_name=model_package_group_name,
        )

        variables = {
            "ArtifactBucket": artifact_bucket.bucket_name,
            "CodeBucket": bundle.s3_bucket_name,
            "ImageRegistry": registry,
            "KmsKeyArn": key.key_arn,
            "ModelPackageGroup": model_package_group_name,
            "RoleArn": self.execution_role.role.role_arn,
            "SecurityGroup": security_group.security_group_id,
            **{f"Subnet{i}": subnet for i, subnet in enumerate(subnet_ids)},
        }
        settings = config.env.pipeline
        definition = build_definition(
            DefinitionProps(
                job=JobSettings(
                    role_arn=_var("RoleArn"),
                    kms_key_arn=_var("KmsKeyArn"),
                    image_uri=image_uri(_var("ImageRegistry"), _var("AWS::Region"), _var("AWS::URLSuffix")),
                    subnet_ids=tuple(_var(f"Subnet{i}") for i in range(len(subnet_ids))),
                    security_group_ids=(_var("SecurityGroup"),),
                    max_runtime_seconds=settings.max_runtime_seconds,
                ),
                artifact_bucket=_var("ArtifactBucket"),
                code_uri=f"s3://{_var('CodeBucket')}/{bundle.s3_object_key}",
                region=_var("AWS::Region"),
                model_package_group_name=_var("ModelPackageGroup"),
                processing_instance_type=config.env.instances.processing,
                training_instance_type=config.env.instances.training,
                endpoint_instance_type=config.env.instances.endpoint,
                quality_threshold=settings.quality_threshold,
                champion_margin=settings.champion_margin,
                use_spot=settings.use_spot,
            ),
            name=training_pipeline_name(config.prefix),
        )
        self.pipeline = sagemaker.CfnPipeline(
            self,
            "Pipeline",
            pipeline_name=training_pipeline_name(config.prefix),
            pipeline_description="Preprocess, train, evaluate, gate and register a model version",
            role_arn=self.execution_role.role.role_arn,
            pipeline_definition={"PipelineDefinitionBody": cdk.Fn.sub(definition, variables)},
        )
        # The policy must be attached before SageMaker validates the role on CreatePipeline.
        self.pipeline.node.add_dependency(self.execution_role.policy)
        self.pipeline_name = self.pipeline.pipeline_name
