"""Per-persona SageMaker execution roles, scoped to this project's bucket, key and resources.

No AWS managed policy is attached. Each concern is one customer-managed policy, so a finding
about a wildcard is acknowledged on exactly the policy that needs it (see ``studio_stack``).
Resource wildcards remain only where the SageMaker, EC2, ECR, CloudWatch or Logs APIs have no
resource-level permissions, or where the service itself names the resource (job log streams).
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.config import Persona


@dataclass(frozen=True, kw_only=True)
class PersonaRoleProps:
    """What one persona's role may touch."""

    prefix: str
    persona: Persona
    artifact_bucket: s3.IBucket
    key: kms.IKey
    model_package_group_name: str
    vpc_id: str


def sagemaker_arn(resource: str) -> str:
    """ARN of a SageMaker resource in this stack's account and region (``resource`` = type/name)."""
    return f"arn:{cdk.Aws.PARTITION}:sagemaker:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:{resource}"


class PersonaRole(Construct):
    """An execution role for Studio apps and the jobs a persona starts from them.

    Attributes:
        role: the IAM role (trusted by sagemaker.amazonaws.com).
        policies: the customer-managed policies by concern (``storage``, ``sagemaker``,
            ``runtime``); ``studio_ui`` is added by :meth:`allow_studio_apps`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: PersonaRoleProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        self.prefix = props.prefix
        self.persona: Persona = props.persona
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"{props.prefix} {props.persona}: Studio apps and the jobs they start",
        )
        self.policies: dict[str, iam.ManagedPolicy] = {}
        self._policy("storage", self._storage_statements())
        self._policy("sagemaker", self._sagemaker_statements())
        self._policy("runtime", self._runtime_statements())

    def allow_studio_apps(self, domain_id: str) -> iam.ManagedPolicy:
        """Let the persona run Studio apps and spaces in ``domain_id`` (and nothing else's)."""
        return self._policy(
            "studio_ui",
            [
                _allow(
                    ["sagemaker:CreateApp", "sagemaker:DeleteApp", "sagemaker:DescribeApp"],
                    [sagemaker_arn(f"app/{domain_id}/*")],
                ),
                _allow(
                    [
                        "sagemaker:CreateSpace",
                        "sagemaker:UpdateSpace",
                        "sagemaker:DeleteSpace",
                        "sagemaker:DescribeSpace",
                    ],
                    [sagemaker_arn(f"space/{domain_id}/*")],
                ),
                _allow(["sagemaker:DescribeUserProfile"], [sagemaker_arn(f"user-profile/{domain_id}/*")]),
                _allow(["sagemaker:DescribeDomain"], [sagemaker_arn(f"domain/{domain_id}")]),
            ],
        )

    # ------------------------------------------------------------------ statements

    def _storage_statements(self) -> list[iam.PolicyStatement]:
        p = self._props
        object_actions = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
        if p.persona == "ml_engineer":
            object_actions.append("s3:DeleteObject")
        return [
            _allow(["s3:ListBucket", "s3:GetBucketLocation"], [p.artifact_bucket.bucket_arn]),
            _allow(object_actions, [p.artifact_bucket.arn_for_objects("*")]),
            _allow(
                ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                [p.key.key_arn],
            ),
            # Training/processing volumes are encrypted by SageMaker on the caller's behalf.
            iam.PolicyStatement(
                actions=["kms:CreateGrant"],
                resources=[p.key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
        ]

    def _sagemaker_statements(self) -> list[iam.PolicyStatement]:
        p = self._props
        jobs = [sagemaker_arn(f"{kind}/{p.prefix}-*") for kind in ("processing-job", "training-job")]
        pipelines = [
            sagemaker_arn(f"pipeline/{p.prefix}-*"),
            sagemaker_arn(f"pipeline/{p.prefix}-*/execution/*"),
        ]
        group = p.model_package_group_name
        registry = [sagemaker_arn(f"model-package-group/{group}"), sagemaker_arn(f"model-package/{group}/*")]
        registry_actions = [
            "sagemaker:DescribeModelPackageGroup",
            "sagemaker:DescribeModelPackage",
            "sagemaker:CreateModelPackage",
        ]
        endpoints = [sagemaker_arn(f"endpoint/{p.prefix}-*")]
        statements = [
            _allow(
                [
                    "sagemaker:CreateProcessingJob",
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:StopTrainingJob",
                    "sagemaker:AddTags",
                ],
                jobs,
            ),
            _allow(
                [
                    "sagemaker:DescribePipeline",
                    "sagemaker:StartPipelineExecution",
                    "sagemaker:StopPipelineExecution",
                    "sagemaker:DescribePipelineExecution",
                    "sagemaker:ListPipelineExecutionSteps",
                ],
                pipelines,
            ),
            _allow(["sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"], endpoints),
        ]
        if p.persona == "ml_engineer":
            # Only ML engineers approve models and run endpoints.
            registry_actions.append("sagemaker:UpdateModelPackage")
            statements.append(
                _allow(
                    [
                        "sagemaker:CreateModel",
                        "sagemaker:DescribeModel",
                        "sagemaker:DeleteModel",
                        "sagemaker:CreateEndpointConfig",
                        "sagemaker:DescribeEndpointConfig",
                        "sagemaker:DeleteEndpointConfig",
                        "sagemaker:CreateEndpoint",
                        "sagemaker:UpdateEndpoint",
                        "sagemaker:DeleteEndpoint",
                    ],
                    [
                        sagemaker_arn(f"{kind}/{p.prefix}-*")
                        for kind in ("model", "endpoint-config", "endpoint")
                    ],
                )
            )
        statements.append(_allow(registry_actions, registry))
        # List*/Search calls have no resource-level permissions in SageMaker's IAM model.
        statements.append(
            _allow(
                [
                    "sagemaker:ListApps",
                    "sagemaker:ListSpaces",
                    "sagemaker:ListUserProfiles",
                    "sagemaker:ListDomains",
                    "sagemaker:ListProcessingJobs",
                    "sagemaker:ListTrainingJobs",
                    "sagemaker:ListPipelines",
                    "sagemaker:ListPipelineExecutions",
                    "sagemaker:ListModelPackageGroups",
                    "sagemaker:ListModelPackages",
                    "sagemaker:ListModels",
                    "sagemaker:ListEndpoints",
                    "sagemaker:Search",
                ],
                ["*"],
            )
        )
        statements.append(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        return statements

    def _runtime_statements(self) -> list[iam.PolicyStatement]:
        """What SageMaker needs while running a job with this role: logs, metrics, ENIs, images."""
        log_groups = (
            f"arn:{cdk.Aws.PARTITION}:logs:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:log-group:/aws/sagemaker/*"
        )
        vpc_arn = (
            f"arn:{cdk.Aws.PARTITION}:ec2:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:vpc/{self._props.vpc_id}"
        )
        return [
            _allow(
                [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                [log_groups],
            ),
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            ),
            _allow(
                [
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeDhcpOptions",
                ],
                ["*"],
            ),
            iam.PolicyStatement(
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                ],
                resources=["*"],
                conditions={"ArnEquals": {"ec2:Vpc": vpc_arn}},
            ),
            _allow(["ecr:GetAuthorizationToken"], ["*"]),
            _allow(
                ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                [
                    f"arn:{cdk.Aws.PARTITION}:ecr:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}"
                    f":repository/{self._props.prefix}-*"
                ],
            ),
        ]

    def _policy(self, concern: str, statements: list[iam.PolicyStatement]) -> iam.ManagedPolicy:
        policy = iam.ManagedPolicy(
            self,
            "".join(part.capitalize() for part in concern.split("_")) + "Policy",
            statements=statements,
            roles=[self.role],
        )
        self.policies[concern] = policy
        return policy


def _allow(actions: list[str], resources: list[str]) -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=actions, resources=resources)
