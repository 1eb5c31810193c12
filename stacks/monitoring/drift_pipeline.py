"""The drift-check SageMaker pipeline, its execution role and its code bundle.

The role starts from the training pipeline role's statements (jobs, code, key, image, logs, VPC)
minus what the check never does (register or list models, read raw data, write training runs),
plus: read baselines (``pipeline-runs/*``), read capture (``data-capture/*``), write
``drift-checks/*``, and invoke the pipeline's two functions: the metrics publisher (given) and
the capture selector (made here), which may list ``data-capture/*`` and write the window's
manifest under ``drift-checks/*`` and nothing else.

The check of a stage in another account (:mod:`stacks.stage.monitoring_stack`) runs there, over
that account's capture bucket, with a role of the fixed name the tooling account's policies admit
(:class:`ToolingBaselines`); it reads baselines from the tooling account (:mod:`.baselines`).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from contracts.layout import CAPTURE_PREFIX, CHECKS_PREFIX, RUNS_PREFIX
from stacks.common.arns import pipeline_arn
from stacks.common.images import registry_account, repository_arn
from stacks.common.nag import acknowledge_resource
from stacks.monitoring.baselines import acknowledge_tooling_baselines, baseline_and_capture_reads
from stacks.monitoring.definition import DriftDefinitionProps, definition_json
from stacks.monitoring.drift_props import DriftPipelineProps
from stacks.monitoring.functions import FunctionProps, PythonFunction
from stacks.pipeline.acknowledgements import acknowledge_role_wildcards
from stacks.pipeline.execution_role import ExecutionRoleProps, role_statements
from stacks.pipeline.placeholders import DeployValues, job_settings, var
from stacks.pipeline.source_bundle import build_bundle

_NOT_NEEDED = frozenset({"RegisterForReview", "FindModels", "ListModelVersions", "ReadData", "ReadWriteRuns"})


class DriftPipeline(Construct):
    """``CfnPipeline`` ``<prefix>-drift-check`` and its least-privilege role."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DriftPipelineProps) -> None:
        super().__init__(scope, construct_id)
        bundle = s3_assets.Asset(
            self, "SourceBundle", path=str(build_bundle(props.source_dir, props.build_dir))
        )
        registry = registry_account(self, "ImageRegistry")
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Runs the drift-check pipeline and its processing job",
            role_name=props.baselines.role_name if props.baselines else None,
        )  # fmt: skip
        self.selector = self._selector(props)
        self.policy = iam.ManagedPolicy(
            self, "Policy", statements=self._statements(props, bundle, registry), roles=[self.role]
        )
        prefixes = {
            RUNS_PREFIX: "Reads the deployed version's baseline (pipeline-runs/<execution>/preprocess/).",
            CAPTURE_PREFIX: "Reads endpoint data capture (<endpoint>/<variant>/...).",
            CHECKS_PREFIX: "Each check writes its report under drift-checks/<execution id>/.",
        }
        if props.baselines:  # the baselines are in the tooling account, not in this bucket
            del prefixes[RUNS_PREFIX]
            acknowledge_tooling_baselines(self.policy, props.baselines.tooling_account)
        acknowledge_role_wildcards(
            self.policy,
            bucket=props.artifact_bucket,
            bucket_prefixes=prefixes,
            group_name=props.model_package_group_name,
        )
        values = DeployValues(
            artifact_bucket=props.artifact_bucket.bucket_name,
            code_bucket=bundle.s3_bucket_name,
            image_registry=registry,
            key_arn=props.key.key_arn,
            role_arn=self.role.role_arn,
            security_group_id=props.network.security_group.security_group_id,
            subnet_ids=props.network.subnet_ids,
            extra={
                "PublisherArn": props.publisher.function_arn,
                "SelectorArn": self.selector.function.function_arn,
            },
        )
        self.pipeline = sagemaker.CfnPipeline(
            self,
            "Pipeline",
            pipeline_name=props.name,
            pipeline_description="Drift check of captured endpoint traffic against its version's baseline",
            role_arn=self.role.role_arn,
            pipeline_definition={
                "PipelineDefinitionBody": values.definition_body(_definition(props, bundle.s3_object_key))
            },
        )
        self.pipeline.node.add_dependency(self.policy)
        self.arn = pipeline_arn(self, props.name)

    def _statements(
        self, props: DriftPipelineProps, bundle: s3_assets.Asset, registry: str
    ) -> list[iam.PolicyStatement]:
        """The training role's statements the check needs, plus capture, checks and its two functions."""
        network, bucket = props.network, props.artifact_bucket
        role_props = ExecutionRoleProps(
            key=props.key,
            artifact_bucket=bucket,
            code_bucket_name=bundle.s3_bucket_name,
            code_object_key=bundle.s3_object_key,
            model_package_group_name=props.model_package_group_name,
            model_package_group_arn="",
            image_repository_arn=repository_arn(self, registry),
            vpc=network.vpc,
            subnet_ids=network.subnet_ids,
            security_group=network.security_group,
            instance_types=props.allowed_instance_types,
            training_jobs=False,  # a drift check is one processing job
            isolated_processing=True,
        )
        statements = [s for s in role_statements(self, role_props, self.role) if s.sid not in _NOT_NEEDED]
        tooling = props.baselines.tooling_account if props.baselines else None
        return [
            *statements,
            *baseline_and_capture_reads(cdk.Stack.of(self), bucket, tooling_account=tooling),
            iam.PolicyStatement(
                sid="WriteDriftChecks",
                actions=["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{CHECKS_PREFIX}*")],
            ),
            iam.PolicyStatement(
                sid="PublishMetricsStep",
                actions=["lambda:InvokeFunction"],
                resources=[props.publisher.function_arn],
            ),
            iam.PolicyStatement(
                sid="SelectCaptureStep",
                actions=["lambda:InvokeFunction"],
                resources=[self.selector.function.function_arn],
            ),
        ]

    def _selector(self, props: DriftPipelineProps) -> PythonFunction:
        """The SelectCapture step's function: lists ``data-capture/*``, writes ``drift-checks/*``."""
        bucket = props.artifact_bucket
        selector = PythonFunction(
            self,
            "SelectCapture",
            props=FunctionProps(
                handler="select_capture.handler",
                description="Lists a drift check's capture files of the lookback window into a manifest",
                key=props.key,
                # Every monitored stage's schedule may fire in the same minute.
                reserved_concurrency=2,
                # One ListObjectsV2 per variant and hour: a 31-day window is ~750 calls.
                timeout_seconds=300,
                statements=[
                    iam.PolicyStatement(
                        sid="ListCapture",
                        actions=["s3:ListBucket"],
                        resources=[bucket.bucket_arn],
                        conditions={"StringLike": {"s3:prefix": [f"{CAPTURE_PREFIX}*"]}},
                    ),
                    iam.PolicyStatement(
                        sid="WriteManifest",
                        actions=["s3:PutObject"],
                        resources=[bucket.arn_for_objects(f"{CHECKS_PREFIX}*")],
                    ),
                    # The bucket's default encryption is SSE-KMS with this key; a put needs a data key.
                    iam.PolicyStatement(
                        sid="EncryptManifest", actions=["kms:GenerateDataKey"], resources=[props.key.key_arn]
                    ),
                ],
            ),
        )
        acknowledge_resource(
            selector.policy,
            bucket.arn_for_objects(f"{CHECKS_PREFIX}*"),
            "Writes each check's manifest under drift-checks/<execution id>/; the execution ID is "
            "generated at run time. It can read nothing there.",
        )
        return selector


def _definition(props: DriftPipelineProps, code_key: str) -> str:
    """The check's definition JSON, with :mod:`stacks.pipeline.placeholders` for deploy-time values."""
    m = props.monitoring
    return definition_json(
        DriftDefinitionProps(
            job=job_settings(
                subnet_count=len(props.network.subnets), max_runtime_seconds=props.max_runtime_seconds
            ),
            artifact_bucket=var("ArtifactBucket"),
            code_uri=f"s3://{var('CodeBucket')}/{code_key}",
            function_arn=var("PublisherArn"),
            select_function_arn=var("SelectorArn"),
            instance_type=props.instance_type,
            threshold=m.drift_threshold,
            missing_tolerance=m.missing_rate_tolerance,
            feature_thresholds=m.feature_thresholds,
        )
    )
