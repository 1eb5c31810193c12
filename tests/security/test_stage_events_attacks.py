"""Attack cases for the tooling account's stage-events bus (issue 13 point 4, phase B).

A stage account sends its alarms' state changes to ``<prefix>-stage-events`` in the tooling account,
whose rules notify the team and start retraining. Decided by ``policy_eval`` against the synthesized
bus policy and the sender's identity policy, both having to allow across accounts: the stage's
forwarding role delivers alarm state changes; nothing else gets in (another kind of event, another
account, outside the organization), and the forwarding role reaches no other bus.
"""

from __future__ import annotations

from typing import Any

import pytest
from policy_eval import Decision, Policy, Principal, Request, authorize
from stage_policies import REGION, StagePolicies
from test_stage_account_attacks import (
    ADMIN,
    FOREIGN,
    IN_ORG,
    PREFIX,
    PROD,
    STAGING,
    TOOLING,
    allowed,
    denied,
    role_in,
    stage,
    with_admin,
)

__all__ = ["stage"]  # the module's fixture: the multi-account assembly, resolved per account

BUS = f"arn:aws:events:{REGION}:{TOOLING}:event-bus/{PREFIX}-stage-events"
ALARMS = {"events:source": "aws.cloudwatch", "events:detail-type": "CloudWatch Alarm State Change"}
PIPELINE_RUNS = {
    "events:source": "aws.sagemaker",
    "events:detail-type": "SageMaker Model Building Pipeline Execution Status Change",
}


def bus_policy(stage: StagePolicies) -> Policy:
    """The bus policy, its resource (the bus's ``Arn``) as EventBridge names a bus of that name."""
    ((bus_id, bus),) = stage.resources("monitoring", "AWS::Events::EventBus").items()
    assert bus["Properties"]["Name"] == f"{PREFIX}-stage-events"
    (policy,) = stage.resources("monitoring", "AWS::Events::EventBusPolicy").values()
    raw = dict(policy["Properties"]["Statement"])
    assert raw["Resource"] == {"Fn::GetAtt": [bus_id, "Arn"]}
    statement = stage.resolve("monitoring", {**raw, "Resource": BUS})
    return Policy("monitoring/StageEventsPolicy", {"Statement": [statement]})


def put(
    stage: StagePolicies, caller: Principal, identity: list[Policy], bus: str = BUS, **context: Any
) -> Decision:
    request = Request(caller, "events:PutEvents", bus, {**IN_ORG, **ALARMS, **context})
    return authorize(request, identity=identity, resource=[bus_policy(stage)] if bus == BUS else [])


@pytest.mark.parametrize("name", ["staging", "prod"])
def test_the_stage_forwarding_role_delivers_its_alarms(stage: StagePolicies, name: str) -> None:
    role = stage.role(f"{name}-base", "AlarmForwardingRole")
    allowed(put(stage, role.principal, list(role.policies)), "the stage's alarm state changes")


def test_the_forwarding_role_reaches_no_other_bus(stage: StagePolicies) -> None:
    role = stage.role("prod-base", "AlarmForwardingRole")
    for bus in (
        f"arn:aws:events:{REGION}:{TOOLING}:event-bus/default",  # the tooling rules' bus
        f"arn:aws:events:{REGION}:{FOREIGN}:event-bus/default",
        f"arn:aws:events:{REGION}:{PROD}:event-bus/default",
    ):
        denied(put(stage, role.principal, list(role.policies), bus=bus), f"putting events on {bus}")


def test_only_alarm_and_pipeline_state_changes_get_in(stage: StagePolicies) -> None:
    # GIVEN an administrator of a stage account, whose own IAM allows everything
    admin = with_admin(role_in(PROD, "admin"))
    allowed(put(stage, admin.principal, [ADMIN]), "an alarm state change from the stage account")
    allowed(put(stage, admin.principal, [ADMIN], **PIPELINE_RUNS), "a pipeline run's state change")
    # THEN any other kind of event is refused by the bus policy (no registry or delivery events)
    for source, kind in [
        ("aws.sagemaker", "SageMaker Model Package State Change"),
        ("aws.codepipeline", "CodePipeline Pipeline Execution State Change"),
        ("com.attacker", "CloudWatch Alarm State Change"),
    ]:
        context = {"events:source": source, "events:detail-type": kind}
        denied(put(stage, admin.principal, [ADMIN], **context), f"{source}/{kind}")


def test_no_other_account_or_organization_gets_in(stage: StagePolicies) -> None:
    foreign = with_admin(role_in(FOREIGN, "admin"))
    denied(put(stage, foreign.principal, [ADMIN]), "a foreign account")
    staging = with_admin(role_in(STAGING, "admin"))
    denied(
        put(stage, staging.principal, [ADMIN], **{"aws:PrincipalOrgID": "o-someoneelse"}), "outside the org"
    )
