"""The smoke-test role of an endpoint stage in another account.

The tooling account's deploy build for the stage (its CodeBuild role, fixed name
:func:`contracts.names.deploy_role_name`) assumes it to invoke the freshly deployed endpoint.
The trust names the tooling account as the principal and the build's role through
``aws:PrincipalArn`` (with ``aws:PrincipalOrgID`` when an organization is configured): a trust
policy naming the role ARN itself fails to deploy until that role exists, and it lives in another
account's stack. The one permission is ``sagemaker:InvokeEndpoint`` on the stage's endpoint;
everything else the smoke test needs (samples, registry) it reads with the build's own role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class SmokeRoleProps:
    """The role's name, the endpoint it may invoke, and who may assume it."""

    role_name: str
    endpoint_name: str
    tooling_account: str
    #: The tooling account's deploy build role (by name) that alone may assume it.
    deploy_role_name: str
    organization_id: str | None = None


class SmokeRole(Construct):
    """``role`` (trusting only the stage's deploy build) and ``policy`` (its one permission).

    Attributes:
        endpoint_arn: the endpoint the role may invoke.
        deploy_role_arn: the role in the tooling account its trust names.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: SmokeRoleProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.deploy_role_arn = (
            f"arn:{stack.partition}:iam::{props.tooling_account}:role/{props.deploy_role_name}"
        )
        conditions: dict[str, Any] = {"ArnEquals": {"aws:PrincipalArn": self.deploy_role_arn}}
        if props.organization_id:
            conditions["StringEquals"] = {"aws:PrincipalOrgID": props.organization_id}
        self.role = iam.Role(
            self,
            "Role",
            role_name=props.role_name,
            assumed_by=iam.AccountPrincipal(props.tooling_account).with_conditions(conditions),
            description=f"Smoke-tests {props.endpoint_name} for the tooling account's deploy build",
        )
        self.endpoint_arn = stack.format_arn(
            service="sagemaker", resource="endpoint", resource_name=props.endpoint_name
        )
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="InvokeTheStageEndpoint",
                    actions=["sagemaker:InvokeEndpoint"],
                    resources=[self.endpoint_arn],
                )
            ],
        )
