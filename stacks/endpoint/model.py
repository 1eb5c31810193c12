"""The hosted model of one stage: the approved model package, served isolated in the VPC.

The model is created from the approved *model package* (the registry entry a human approved), not
from a loose image + artifact pair, so what is served is exactly what was reviewed. On instances
it runs with network isolation inside the platform's private subnets, as a role scoped to this one
version (:mod:`stacks.endpoint.execution_role`). Serverless Inference supports neither a VPC
configuration nor network isolation (AWS lists both among its feature exclusions), so a serverless
stage's model has neither, its role no EC2 permissions, and the finding is acknowledged with that
reason; a stage that must stay in the VPC serves on instances.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from contracts.approved_model import ApprovedModel
from contracts.names import versioned_name
from stacks.common.nag import IAM5, account_arn, acknowledge, acknowledge_resource
from stacks.common.shared import Network
from stacks.endpoint.async_inference import AsyncIo
from stacks.endpoint.create_only import at_synth, subnet_at_synth
from stacks.endpoint.cross_account import CrossAccountServing, tooling_keys_arn
from stacks.endpoint.execution_role import ExecutionRoleProps, ModelExecutionRole
from stacks.endpoint.served_version import check_served_version

_SERVERLESS_NETWORK = (
    "Serverless Inference rejects network isolation and VPC configuration (AWS feature exclusions); "
    "serverless is a config option for idle dev/staging endpoints, the role still reads only this "
    "version's artifact, and a stage that must be isolated in the VPC serves on instances."
)


@dataclass(frozen=True, kw_only=True)
class HostedModelProps:
    """What the hosted model needs."""

    endpoint_name: str
    approved: ApprovedModel
    key: kms.IKey
    artifact_bucket: s3.IBucket
    #: The project VPC, subnets and security group (instance stages run the model there).
    network: Network
    #: Key prefix of this endpoint's captured data (``data-capture/<endpoint>/``), or None.
    capture_prefix: str | None
    #: Served by Serverless Inference (no VPC config or network isolation there).
    serverless: bool = False
    #: Set for a stage in another account: the role's fixed name and the model's (tooling) account.
    cross_account: CrossAccountServing | None = None
    #: Set for an async stage: the prefixes and topics its role may use.
    async_io: AsyncIo | None = None


class HostedModel(Construct):
    """``model`` (a ``CfnModel`` from the approved package) and ``execution`` (its role).

    Attributes:
        create_only: the model's create-only properties as known at synth (CloudFormation names).
        name: ``<endpoint>-v<version>-<fingerprint of create_only>`` (:mod:`contracts.names`).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: HostedModelProps) -> None:
        super().__init__(scope, construct_id)
        region = cdk.Stack.of(self).region
        check_served_version(props.approved, region=None if cdk.Token.is_unresolved(region) else region)
        subnet_ids = props.network.subnet_ids
        self.execution = ModelExecutionRole(
            self,
            "ExecutionRole",
            props=ExecutionRoleProps(
                endpoint_name=props.endpoint_name,
                approved=props.approved,
                key=props.key,
                artifact_bucket=props.artifact_bucket,
                vpc=None if props.serverless else props.network.vpc,
                subnet_ids=subnet_ids,
                security_group=props.network.security_group,
                capture_prefix=props.capture_prefix,
                cross_account=props.cross_account,
                async_io=props.async_io,
            ),
        )
        _acknowledge_wildcards(self.execution, props)
        self.create_only = _create_only(props, self.execution.role)
        self.name = versioned_name(props.endpoint_name, props.approved.version, self.create_only)
        self.model = sagemaker.CfnModel(
            self,
            "Model",
            model_name=self.name,
            execution_role_arn=self.execution.role.role_arn,
            containers=[
                sagemaker.CfnModel.ContainerDefinitionProperty(
                    model_package_name=props.approved.model_package_arn
                )
            ],
            enable_network_isolation=not props.serverless,
            vpc_config=None
            if props.serverless
            else sagemaker.CfnModel.VpcConfigProperty(
                subnets=subnet_ids, security_group_ids=[props.network.security_group.security_group_id]
            ),
        )
        if props.serverless:
            acknowledge(
                self.model, "SageMaker-ModelNetworkIsolation[EnableNetworkIsolation]", _SERVERLESS_NETWORK
            )
        # SageMaker checks the role's permissions when it creates the model.
        self.model.node.add_dependency(self.execution.policy)


def _create_only(props: HostedModelProps, role: iam.IRole) -> dict[str, object]:
    """Every property of the model but its name and tags (all create-only), as known at synth."""
    sg = props.network.security_group
    return {
        "Containers": [{"ModelPackageName": props.approved.model_package_arn}],
        "ExecutionRoleArn": at_synth(role.role_arn, role, "Arn"),
        "EnableNetworkIsolation": not props.serverless,
        "VpcConfig": None
        if props.serverless
        else {
            "Subnets": [subnet_at_synth(s) for s in props.network.subnets],
            "SecurityGroupIds": [at_synth(sg.security_group_id, sg, "GroupId")],
        },
    }


def _acknowledge_wildcards(execution: ModelExecutionRole, props: HostedModelProps) -> None:
    """One acknowledgement per deliberate wildcard of the role's policy (a new one stays a finding)."""
    policy = execution.policy
    logs = f"log-group:/aws/sagemaker/Endpoints/{props.endpoint_name}:log-stream:*"
    reasons = {
        "*": "Only actions without resource-level permissions: ecr:GetAuthorizationToken, the EC2 "
        "Describe* calls SageMaker makes to place the model in the VPC (instance stages only), and "
        "cloudwatch:PutMetricData (a condition pins the /aws/sagemaker/Endpoints namespace).",
        account_arn(policy, "logs", logs): "SageMaker writes one log stream per "
        "instance and container (names generated at run time) in this endpoint's own log group.",
    }
    if not props.serverless:
        reasons[account_arn(policy, "ec2", "network-interface/*")] = (
            "SageMaker creates one ENI per instance; their IDs are unknown in advance. Creation is "
            "limited to the project subnets and security group, permission and deletion to the "
            "project VPC (ec2:Vpc condition)."
        )
    for resource, reason in reasons.items():
        acknowledge(policy, f"{IAM5}[Resource::{resource}]", reason)
    if props.cross_account:
        acknowledge_resource(
            policy,
            tooling_keys_arn(cdk.Stack.of(policy), props.cross_account.tooling_account),
            "kms:Decrypt only, only through S3 in this region (kms:ViaService), for the model.tar.gz "
            "this role reads from the tooling account; that account's key ID is generated there and "
            "unknown to this stage's synth, and the tooling data key's policy is the gate: it admits "
            "this role by name, through S3, and no other principal across accounts.",
        )
    if props.async_io is not None:
        _acknowledge_async(policy, props.artifact_bucket, props.async_io)
    if props.capture_prefix:
        acknowledge_resource(
            policy,
            props.artifact_bucket.arn_for_objects(f"{props.capture_prefix}*"),
            "SageMaker writes captured requests under <endpoint>/<variant>/yyyy/mm/dd/hh/<generated "
            "name>.jsonl; limited to this endpoint's capture prefix, write only.",
        )


def _acknowledge_async(policy: iam.ManagedPolicy, bucket: s3.IBucket, io: AsyncIo) -> None:
    """The async prefixes: one object per request, named by the caller (input) or SageMaker."""
    acknowledge_resource(
        policy,
        bucket.arn_for_objects(f"{io.reads}*"),
        "Async inference reads each request's payload, which callers upload under this endpoint's "
        "input prefix with names of their choosing; read only, this endpoint's prefix only.",
    )
    for prefix in io.writes:
        acknowledge_resource(
            policy,
            bucket.arn_for_objects(f"{prefix}*"),
            "SageMaker writes one <inference id>.out (or -error.out) per async request, named at run "
            "time; write only, limited to this endpoint's output and failure prefixes.",
        )
