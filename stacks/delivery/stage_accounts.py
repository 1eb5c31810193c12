"""What a deploy build may reach in a stage account: three roles, each by its full ARN.

A stage whose endpoint runs in another account (``endpoints.<stage>.account``) is still shipped by
its deploy build in the tooling account. That build's role gets a fixed name,
``<prefix>-<stage>-deploy`` (:func:`contracts.names.deploy_role_name`), because the stage
account's smoke role trusts it by name before the tooling stack deploys. It may assume exactly:

- the stage account's CDK bootstrap ``deploy-role`` and ``file-publishing-role`` (qualifier
  ``bootstrapQualifier``): ``cdk deploy`` of the endpoint stack, whose environment names that
  account, assumes them by itself;
- the stage's smoke role ``<prefix>-<stage>-smoke``, which may only invoke that stage's endpoint.

Nothing else the build may do names another account. A stage in the tooling account gets none of
this (its build keeps CloudFormation's generated role name and the tooling bootstrap roles).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aws_cdk as cdk

from contracts.names import BOOTSTRAP_ROLES, bootstrap_role_name, deploy_role_name, stage_smoke_role_name


@dataclass(frozen=True, kw_only=True)
class StageAccount:
    """A stage in another account, as its deploy build sees it."""

    stage: str
    account: str
    #: The fixed name of the stage's deploy build role in the tooling account.
    deploy_role_name: str
    #: ARNs of the stage account's bootstrap roles ``cdk deploy`` assumes (:data:`BOOTSTRAP_ROLES`).
    bootstrap_roles: tuple[str, ...]
    #: ARN of the stage's smoke role (``release.smoke --role-arn``).
    smoke_role: str


def stage_accounts(
    stack: cdk.Stack, *, prefix: str, accounts: Mapping[str, str], qualifier: str
) -> dict[str, StageAccount]:
    """Stage name -> :class:`StageAccount`, for ``accounts`` (stage -> account; empty: single account).

    The stage's region is the tooling stack's (config allows no other), and so is the partition:
    a literal when the region is configured, the stack's ``AWS::Partition`` otherwise.
    """

    def role(account: str, name: str) -> str:
        return stack.format_arn(
            service="iam", region="", account=account, resource="role", resource_name=name
        )

    return {
        stage: StageAccount(
            stage=stage,
            account=account,
            deploy_role_name=deploy_role_name(prefix, stage),
            bootstrap_roles=tuple(
                role(account, bootstrap_role_name(qualifier, kind, account, stack.region))
                for kind in BOOTSTRAP_ROLES
            ),
            smoke_role=role(account, stage_smoke_role_name(prefix, stage)),
        )
        for stage, account in sorted(accounts.items())
    }
