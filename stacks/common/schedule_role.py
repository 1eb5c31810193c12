"""The execution role of EventBridge Scheduler schedules, guarded against the confused deputy."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

#: Schedules without a ``GroupName`` are in the ``default`` schedule group.
DEFAULT_GROUP = "default"


def schedule_role(
    scope: Construct, construct_id: str, *, description: str, group: str = DEFAULT_GROUP
) -> iam.Role:
    """A role Scheduler may assume for schedules of ``group`` in this account only.

    ``aws:SourceArn`` is the schedule *group's* ARN: Scheduler sets that, not the schedule's, and
    AWS's confused-deputy guidance says not to scope it to a schedule name. What the role may do
    (its own policy) is what limits it to one target.
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
                        service="scheduler", resource="schedule-group", resource_name=group
                    ),
                }
            },
        ),
        description=description,
    )
