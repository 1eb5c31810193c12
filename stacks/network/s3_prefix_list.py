"""The region's S3 managed prefix list ID, resolved when the stack deploys (synth stays offline).

A security group can name the S3 gateway endpoint as an egress destination only through the
AWS-managed prefix list ``com.amazonaws.<region>.s3``, whose ID (``pl-...``) differs per region.
CloudFormation exposes no attribute for it (the gateway ``AWS::EC2::VPCEndpoint`` returns none:
aws-cloudformation/cloudformation-coverage-roadmap#453), and ``ec2.PrefixList.from_lookup`` would
call EC2 at synth time and write ``cdk.context.json``. A hand-kept region table goes stale. So a
custom resource calls EC2 ``DescribeManagedPrefixLists``, filtered on the list's name, each time
the stack is created or updated, and the egress rule reads the ID from its response.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.common.nag import acknowledge

#: Where the ID sits in DescribeManagedPrefixLists' response (the name filter matches one list).
_ID_PATH = "PrefixLists.0.PrefixListId"
#: The id CDK gives the one provider function AwsCustomResource shares per stack (a SingletonFunction).
_PROVIDER_ID = "AWS679f53fac002430cb0da5b7982bd2287"


@dataclass(frozen=True, kw_only=True)
class S3PrefixListProps:
    """The key that encrypts the lookup function's log group."""

    key: kms.IKey


class S3PrefixList(Construct):
    """``com.amazonaws.<region>.s3``'s ID from a deploy-time, read-only EC2 call.

    Attributes:
        prefix_list_id: the ID, a token CloudFormation resolves from the custom resource.
        peer: the prefix list as a security-group peer.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: S3PrefixListProps) -> None:
        super().__init__(scope, construct_id)
        log_group = logs.LogGroup(
            self, "Logs", encryption_key=props.key, retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )  # fmt: skip
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Reads the S3 managed prefix list ID when the network stack deploys",
        )
        policy = self._policy(role, log_group)
        call = cr.AwsSdkCall(
            service="EC2",
            action="DescribeManagedPrefixLists",
            parameters={
                "Filters": [{"Name": "prefix-list-name", "Values": [f"com.amazonaws.{cdk.Aws.REGION}.s3"]}]
            },
            physical_resource_id=cr.PhysicalResourceId.from_response(_ID_PATH),
            output_paths=[_ID_PATH],
        )
        lookup = cr.AwsCustomResource(
            self,
            "Lookup",
            resource_type="Custom::S3PrefixList",
            on_create=call,
            on_update=call,
            role=role,
            log_group=log_group,
            # The SDK bundled with the Lambda runtime has the call; installing one at deploy time
            # would fetch from npm.
            install_latest_aws_sdk=False,
        )
        # The call needs the policy attached first; the role alone does not carry it.
        lookup.node.add_dependency(policy)
        _settle_provider(cdk.Stack.of(self), policy)
        self.prefix_list_id: str = lookup.get_response_field(_ID_PATH)
        self.peer: ec2.IPeer = ec2.Peer.prefix_list(self.prefix_list_id)

    def _policy(self, role: iam.IRole, log_group: logs.ILogGroup) -> iam.ManagedPolicy:
        """The lookup's only permissions: its own logs and the one read-only EC2 call."""
        policy = iam.ManagedPolicy(
            self,
            "Policy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="WriteOwnLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[log_group.log_group_arn],
                ),
                iam.PolicyStatement(
                    sid="ReadManagedPrefixLists",
                    actions=["ec2:DescribeManagedPrefixLists"],
                    resources=["*"],  # EC2 Describe* actions take no resource ARN
                ),
            ],
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "ec2:DescribeManagedPrefixLists supports no resource-level permissions (EC2 Describe* "
            "actions authorize only '*'); the action is read-only and the only one on '*'.",
        )
        return policy


def _settle_provider(stack: cdk.Stack, policy: iam.ManagedPolicy) -> None:
    """Cap the shared provider function at one concurrent run, order it after its policy, and
    acknowledge the findings that do not apply to a deploy-time lookup."""
    function = stack.node.find_child(_PROVIDER_ID).node.default_child
    assert isinstance(function, lambda_.CfnFunction)
    function.reserved_concurrent_executions = 1  # one lookup per deployment; it never needs to scale
    # Depend on the policy only: CDK's DependsOn on the role (already a GetAtt) is cfn-lint W3005.
    cfn_policy = policy.node.default_child
    assert isinstance(cfn_policy, cdk.CfnElement)
    function.add_override("DependsOn", [stack.get_logical_id(cfn_policy)])
    acknowledge(
        function,
        "NIST.800.53.R5-LambdaDLQ",
        "CloudFormation's custom-resource provider: a failed lookup fails and rolls back the stack "
        "operation, visible in its events, and the next deployment repeats it; there is no event "
        "to keep for replay.",
    )
    acknowledge(
        function,
        "NIST.800.53.R5-LambdaInsideVPC",
        "It makes one read-only EC2 call (DescribeManagedPrefixLists) at deploy time and reaches no "
        "VPC resource; the isolated VPC has no EC2 endpoint, and the lookup must work before any "
        "network it would sit in is usable.",
    )
