"""Approval → deploy: an EventBridge rule on the default bus that starts the deploy pipeline.

The pattern (:func:`stacks.delivery.events.approval_pattern`) matches only a version of this
project's group changing to ``Approved``; the target role may only start that one pipeline.
An approval EventBridge cannot deliver (retries exhausted, the role or pipeline gone) goes to the
delivery stack's dead-letter queue instead of being lost: replaying it starts the deploy.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from constructs import Construct

from stacks.common.dead_letters import DeadLetters
from stacks.delivery.events import approval_pattern


@dataclass(frozen=True, kw_only=True)
class ApprovalRuleProps:
    """Whose approvals count, and what they start."""

    group: str
    deploy_pipeline: codepipeline.IPipeline
    dead_letters: DeadLetters


class ApprovalRule(Construct):
    """The rule (``rule``) with the deploy pipeline as its only target."""

    def __init__(self, scope: Construct, construct_id: str, *, props: ApprovalRuleProps) -> None:
        super().__init__(scope, construct_id)
        pattern = approval_pattern(props.group)
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"Deploy when a version of {props.group} is approved",
            event_pattern=events.EventPattern(
                source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern["detail"]
            ),
            targets=[targets.CodePipeline(props.deploy_pipeline, dead_letter_queue=props.dead_letters.queue)],
        )
        # CDK's CodePipeline target (unlike its Lambda target) adds no queue policy for its DLQ:
        # EventBridge may send to the queue for this rule only (aws:SourceArn).
        props.dead_letters.allow_rule(self.rule)
