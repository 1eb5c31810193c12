"""Base stack of an endpoint stage in another account (stateful): its key, capture bucket, alert
topic, the role the tooling account's deploy build smoke-tests through, and the rule that sends
its alarms to the tooling account (:mod:`stacks.stage.alarm_forwarding`).

Only for a stage whose ``endpoints.<stage>.account`` is not the tooling account; it lives in that
account, as ``<prefix>-<stage>-base`` (:func:`contracts.names.stage_stack_name`), next to the
stage's network (``<prefix>-<stage>-network``, a :class:`stacks.network_stack.NetworkStack`) and
its endpoint stack. The endpoint stack uses them as a single-account stage uses the data and
monitoring stacks: the key encrypts the endpoint's storage and captured traffic, the capture
bucket receives ``data-capture/<endpoint>/`` (expiring after ``retention.captureDays``), the
topic gets the endpoint's alarms. The model itself stays in the tooling account's artifact
bucket; the stage's model role reads it there (:mod:`stacks.data.stage_access`).

As in the data stack, everything stateful is retained with its logical ID pinned
(:data:`LOGICAL_IDS`). Resource names start with ``<prefix>-<stage>`` (the stage's endpoint name),
so two stages may share one account: the key's alias, the topic, the smoke role
(:func:`contracts.names.stage_smoke_role_name`) and the log groups the key may encrypt
(CloudFormation names them after their stacks, ``<prefix>-<stage>-...``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from constructs import Construct

from contracts import layout
from contracts.config import RetentionConfig
from contracts.names import (
    alert_topic_name,
    deploy_role_name,
    endpoint_name,
    stage_dead_letter_queue_name,
    stage_drift_pipeline_name,
    stage_events_bus_name,
    stage_smoke_role_name,
)
from stacks.common.arns import pipeline_arn
from stacks.common.logical_ids import pin_logical_id
from stacks.data.artifact_policy import only_key
from stacks.data.data_key import data_key
from stacks.data.secure_bucket import SecureBucketProps, access_log_bucket, secure_bucket
from stacks.monitoring.dashboards import StageDashboard, StageDashboardProps
from stacks.stage.alarm_forwarding import AlarmForwarding, AlarmForwardingProps
from stacks.stage.alert_topic import StageAlertTopic, StageAlertTopicProps
from stacks.stage.smoke_role import SmokeRole, SmokeRoleProps

#: Logical IDs of the stateful resources (and of the named ones); renaming one replaces it.
LOGICAL_IDS = {
    "key": "StageKey",
    "access_log_bucket": "AccessLogBucket",
    "capture_bucket": "CaptureBucket",
    "alert_key": "AlertKey",
    "alert_topic": "AlertTopic",
    "smoke_role": "SmokeRole",
    "dead_letters": "DeadLetterQueue",
}


@dataclass(frozen=True, kw_only=True)
class StageBaseProps:
    """The stage, the tooling side that deploys it, and what the stage keeps for how long."""

    prefix: str
    stage: str
    tooling_account: str
    organization_id: str | None = None
    retention: RetentionConfig
    #: Subscribed to the stage's alert topic (``monitoring.notificationEmails``).
    emails: Sequence[str] = ()
    #: Whether the stage's drift check runs in this account (its failed runs are sent to the tooling one).
    drift_checked: bool = False


class StageBaseStack(cdk.Stack):
    """The stage account's key, access-log and capture buckets, alert topic, smoke role and dashboard.

    Attributes:
        key: the stage's customer-managed key (rotation on): endpoint storage, capture, logs.
        access_log_bucket: destination of the capture bucket's server access logs.
        capture_bucket: SSE-KMS bucket the endpoint captures traffic into.
        topic: the stage's alert topic.
        smoke: the smoke-test role (:class:`stacks.stage.smoke_role.SmokeRole`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: StageBaseProps,
        env: cdk.Environment,
        synthesizer: cdk.IStackSynthesizer | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, synthesizer=synthesizer, description=description)
        # Everything of the stage is named after its endpoint, <prefix>-<stage>.
        endpoint = stage_prefix = endpoint_name(props.prefix, props.stage)
        self.key = data_key(self, LOGICAL_IDS["key"], prefix=stage_prefix)
        cast(
            kms.CfnKey, self.key.node.default_child
        ).description = f"{stage_prefix}: the endpoint's storage, captured traffic and the stage's logs"
        self.access_log_bucket = access_log_bucket(self, LOGICAL_IDS["access_log_bucket"])
        self.capture_bucket = secure_bucket(
            self,
            LOGICAL_IDS["capture_bucket"],
            props=SecureBucketProps(
                key=self.key,
                access_log_bucket=self.access_log_bucket,
                expire_prefixes={layout.CAPTURE_PREFIX: props.retention.capture_days},
            ),
        )
        only_key(self.capture_bucket, key=self.key)  # as the tooling artifact bucket: the stage key only
        alerts = StageAlertTopic(
            self,
            "Alerts",
            props=StageAlertTopicProps(topic_name=alert_topic_name(stage_prefix), emails=props.emails),
        )
        pin_logical_id(alerts.key, LOGICAL_IDS["alert_key"])
        pin_logical_id(alerts.topic, LOGICAL_IDS["alert_topic"])
        self.topic = alerts.topic
        self.smoke = SmokeRole(
            self,
            "Smoke",
            props=SmokeRoleProps(
                role_name=stage_smoke_role_name(props.prefix, props.stage),
                endpoint_name=endpoint,
                tooling_account=props.tooling_account,
                deploy_role_name=deploy_role_name(props.prefix, props.stage),
                organization_id=props.organization_id,
            ),
        )
        pin_logical_id(self.smoke.role, LOGICAL_IDS["smoke_role"])
        self.forwarding = self._forwarding(props, endpoint)
        pin_logical_id(self.forwarding.dead_letters.queue, LOGICAL_IDS["dead_letters"])
        # The endpoint's metrics (and its drift check's) are in this account: so is its dashboard.
        self.dashboard = StageDashboard(self, "Dashboard", props=_dashboard(endpoint, props.drift_checked))

    def _forwarding(self, props: StageBaseProps, endpoint: str) -> AlarmForwarding:
        """The rules sending the stage's alarms (and failed drift checks) to the tooling account."""
        drift_pipeline = stage_drift_pipeline_name(props.prefix, props.stage)
        return AlarmForwarding(
            self,
            "AlarmForwarding",
            props=AlarmForwardingProps(
                endpoint_name=endpoint,
                tooling_account=props.tooling_account,
                bus_name=stage_events_bus_name(props.prefix),
                dead_letter_queue_name=stage_dead_letter_queue_name(props.prefix, props.stage),
                topic=self.topic,
                drift_pipeline_arn=pipeline_arn(self, drift_pipeline) if props.drift_checked else None,
            ),
        )


def _dashboard(endpoint: str, drift_checked: bool) -> StageDashboardProps:
    """The stage's endpoint (and drift) metrics; the training pipeline's are the tooling account's."""
    return StageDashboardProps(
        dashboard_name=endpoint, endpoint_name=endpoint, training_pipeline_name=None, drift=drift_checked
    )
