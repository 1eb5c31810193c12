"""The training pipeline stack: the SageMaker Pipeline, its execution role and its code asset.

The definition is generated in Python (``stacks.pipeline.definition``) with ``${Name}``
placeholders for everything only known at deploy time (:mod:`stacks.pipeline.placeholders`);
``PipelineDefinitionBody`` is an ``Fn::Sub`` of that JSON, so CloudFormation fills in the role,
bucket, key, VPC, code location and the region's XGBoost image. The code is one deterministic
``sourcedir.tar.gz`` file asset.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from contracts.config import InstanceConfig, PipelineConfig
from contracts.config.use_cases import UseCase
from contracts.layout import DATA_PREFIX, INTERMEDIATES_PREFIX, RUNS_PREFIX, runs_writer_path
from contracts.names import batch_pipeline_name, training_pipeline_name
from stacks.batch.pipeline import BatchPipeline
from stacks.batch.props import BatchPipelineProps, BatchScoring
from stacks.common.images import registry_account
from stacks.common.shared import SharedResources
from stacks.pipeline.acknowledgements import acknowledge_role_wildcards
from stacks.pipeline.definition import build_definition
from stacks.pipeline.execution_role import ExecutionRoleProps, PipelineExecutionRole
from stacks.pipeline.placeholders import DeployValues, job_settings, var
from stacks.pipeline.props import DefinitionProps
from stacks.pipeline.source_bundle import DEFAULT_BUILD_DIR, DEFAULT_SOURCE_DIR, build_bundle
from stacks.tracking.access import tracking_server_arn

#: Why each deliberate wildcard of the execution role on the artifact bucket is needed.
#: The sample data's schema: the pipeline's defaults when no use case is given.
_SAMPLE = UseCase(name="sample", prefix="", primary=True)

BUCKET_WILDCARDS = {
    DATA_PREFIX: "Reads the raw training data under data/ (the InputDataUri parameter).",
    RUNS_PREFIX: "Jobs write and read their outputs under pipeline-runs/<execution id>/.",
    INTERMEDIATES_PREFIX: "Splits and checkpoints under pipeline-intermediates/<execution id>/ "
    "(expire by lifecycle).",
}


class PipelineStack(cdk.Stack):
    """The SageMaker training pipeline (preprocess, train, evaluate, gate, register).

    ``source_dir``/``build_dir``: the code to bundle and where the bundle is written (tests
    redirect them). ``batch`` (config ``batch.enabled``): the batch scoring pipeline beside it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        shared: SharedResources,
        env: cdk.Environment | None = None,
        description: str | None = None,
        synthesizer: cdk.IStackSynthesizer | None = None,
        source_dir: Path = DEFAULT_SOURCE_DIR,
        build_dir: Path = DEFAULT_BUILD_DIR,
        use_case: UseCase | None = None,
        batch: BatchScoring | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, synthesizer=synthesizer, description=description)
        bundle = s3_assets.Asset(self, "SourceBundle", path=str(build_bundle(source_dir, build_dir)))
        registry = registry_account(self, "XgboostImageRegistry")
        network, group = shared.network, shared.model_package_group_name
        self.execution_role = _execution_role(self, shared, bundle, registry)
        acknowledge_role_wildcards(
            self.execution_role.policy,
            bucket=shared.artifact_bucket,
            bucket_prefixes=BUCKET_WILDCARDS,
            group_name=group,
        )
        name = training_pipeline_name(shared.prefix)
        # Tracking: the definition names the server by ${TrackingServerArn} (this account and region).
        tracking = _tracking(self, shared)
        values = _values(shared, bundle, registry, self.execution_role.role.role_arn, tracking)
        definition = _definition(
            config,
            shared.instances,
            bundle.s3_object_key,
            len(network.subnets),
            name,
            use_case=use_case or _SAMPLE,
            tracked=bool(tracking),
        )
        self.pipeline = sagemaker.CfnPipeline(
            self,
            "Pipeline",
            pipeline_name=name,
            pipeline_description="Preprocess, train, evaluate, gate and register a model version",
            role_arn=self.execution_role.role.role_arn,
            pipeline_definition={"PipelineDefinitionBody": values.definition_body(definition)},
        )
        # The policy must be attached before SageMaker validates the role on CreatePipeline.
        self.pipeline.node.add_dependency(self.execution_role.policy)
        self.pipeline_name = self.pipeline.pipeline_name
        self.batch: BatchPipeline | None = None
        if batch is not None:
            use_case = use_case or _SAMPLE
            self.batch = _batch(self, batch, shared=shared, bundle=bundle, config=config, use_case=use_case)


def _values(
    shared: SharedResources, bundle: s3_assets.Asset, registry: str, role_arn: str, tracking: dict[str, str]
) -> DeployValues:
    """What the definition's ``${Name}`` placeholders become at deploy time."""
    return DeployValues(
        artifact_bucket=shared.artifact_bucket.bucket_name,
        code_bucket=bundle.s3_bucket_name,
        image_registry=registry,
        key_arn=shared.key.key_arn,
        role_arn=role_arn,
        security_group_id=shared.network.security_group.security_group_id,
        subnet_ids=shared.network.subnet_ids,
        extra={"ModelPackageGroup": shared.model_package_group_name, **tracking},
    )


def _tracking(scope: Construct, shared: SharedResources) -> dict[str, str]:
    """``{"TrackingServerArn": ...}`` with a tracking server, else nothing."""
    if shared.tracking_server_name is None:
        return {}
    return {"TrackingServerArn": tracking_server_arn(scope, shared.tracking_server_name)}


def _batch(
    scope: Construct,
    batch: BatchScoring,
    *,
    shared: SharedResources,
    bundle: s3_assets.Asset,
    config: PipelineConfig,
    use_case: UseCase,
) -> BatchPipeline:
    """``BatchScore``: the batch scoring pipeline, on the same bundle and image as training."""
    props = BatchPipelineProps(
        name=batch_pipeline_name(shared.prefix),
        scoring=batch,
        shared=shared,
        bundle=bundle,
        problem_type=use_case.problem_type,
        max_runtime_seconds=config.max_runtime_seconds,
    )
    return BatchPipeline(scope, "BatchScore", props=props)


def _execution_role(
    scope: Construct, shared: SharedResources, bundle: s3_assets.Asset, registry: str
) -> PipelineExecutionRole:
    """``ExecutionRole``: what the pipeline and its jobs may do (on the role path that may write runs)."""
    return PipelineExecutionRole(
        scope,
        "ExecutionRole",
        props=ExecutionRoleProps.of(
            scope,
            shared,
            bundle,
            registry,
            runs_writer_path=runs_writer_path(shared.prefix),
            tracking_server_name=shared.tracking_server_name,
        ),
    )


def _definition(
    config: PipelineConfig,
    instances: InstanceConfig,
    code_key: str,
    subnet_count: int,
    name: str,
    *,
    use_case: UseCase,
    tracked: bool = False,
) -> str:
    """The definition JSON, with :mod:`stacks.pipeline.placeholders` for deploy-time values
    (``tracked``: each execution is logged to the tracking server ``${TrackingServerArn}``)."""
    return build_definition(
        DefinitionProps(
            job=job_settings(subnet_count=subnet_count, max_runtime_seconds=config.max_runtime_seconds),
            artifact_bucket=var("ArtifactBucket"),
            code_uri=f"s3://{var('CodeBucket')}/{code_key}",
            region=var("AWS::Region"),
            model_package_group_name=var("ModelPackageGroup"),
            processing_instance_type=instances.processing,
            training_instance_type=instances.training,
            endpoint_instance_type=instances.endpoint,
            quality_threshold=config.quality_threshold,
            champion_margin=config.champion_margin,
            gate=config.gate,
            column_arguments=tuple(config.column_arguments()),
            use_spot=config.use_spot,
            target_column=use_case.target_column,
            problem_type=use_case.problem_type,
            input_prefix=use_case.input_prefix,
            processing_instances=config.scale.processing_instances,
            training_instances=config.scale.training_instances,
            chunk_rows=config.scale.chunk_rows,
            sample_rows=config.scale.sample_rows,
            external_memory=config.scale.external_memory,
            tracking_server_arn=var("TrackingServerArn") if tracked else None,
        ),
        name=name,
    )
