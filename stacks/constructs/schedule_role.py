"""The execution role of one EventBridge Scheduler schedule, assumable by that schedule only."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct


def schedule_role(scope: Construct, construct_id: str, *, schedule_name: str, description: str) -> iam.Role:
    """A role Scheduler may assume for ``schedule_name`` (default group) in this account only.

    The schedule must carry that ``name``: ``aws:SourceArn`` names it, so no other schedule (and
    no other account's Scheduler) can use the role.
    """
    stack = cdk.Stack.of(scope)
    return iam.Role(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com",
            conditions={
                "StringEquals": {
                    "aws:SourceAccount": stack.account,
                    "aws:SourceArn": stack.format_arn(
                        service="scheduler", resource="schedule", resource_name=f"default/{schedule_name}"
                    ),
                }
            },
        ),
        description=description,
    )
