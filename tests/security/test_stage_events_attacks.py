"""Attack cases for the tooling account's stage-events bus (issue 13 point 4, phase B).

A stage account sends its alarms' state changes to ``<prefix>-stage-events`` in the tooling account,
whose rules notify the team and start retraining. Decided by ``policy_eval`` against the synthesized
bus policy and the sender's identity policy, both having to allow across accounts: the stage's
forwarding role delivers alarm state changes; nothing else gets in (another kind of event, another
account, outside the organization), and the forwarding role reaches no other bus. A stage's drift
check relays drift that persists: its metrics step may put only that event, only on its own
account's bus, and the tooling rule that starts retraining on it matches the stage's account and
its drift alarm's name together (moto's pattern matcher on the synthesized patterns).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern
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


# ---------------------------------------------------------------------- persisting drift (Drift Persists)

PERSISTS = {"events:source": "mlops.drift", "events:detail-type": "Drift Persists"}
PROD_BUS = f"arn:aws:events:{REGION}:{PROD}:event-bus/default"


def test_the_stage_forwarding_role_delivers_persisting_drift(stage: StagePolicies) -> None:
    role = stage.role("prod-base", "AlarmForwardingRole")
    allowed(put(stage, role.principal, list(role.policies), **PERSISTS), "prod's persisting drift")
    foreign = with_admin(role_in(FOREIGN, "admin"))
    denied(put(stage, foreign.principal, [ADMIN], **PERSISTS), "a foreign account's persisting drift")
    staging = with_admin(role_in(STAGING, "admin"))
    denied(
        put(stage, staging.principal, [ADMIN], **PERSISTS, **{"aws:PrincipalOrgID": "o-someoneelse"}),
        "persisting drift from outside the organization",
    )


def test_the_publisher_puts_only_persisting_drift_and_only_on_its_own_bus(stage: StagePolicies) -> None:
    # GIVEN the stage drift check's metrics step, whose relay puts Drift Persists on prod's bus
    publisher = stage.role("prod-monitoring", "DriftMetricsRole")

    def put_as_publisher(bus: str, **context: Any) -> Decision:
        request = Request(publisher.principal, "events:PutEvents", bus, {**IN_ORG, **context})
        return authorize(request, identity=list(publisher.policies), resource=[])

    allowed(put_as_publisher(PROD_BUS, **PERSISTS), "Drift Persists on the stage's own bus")
    # THEN no other event (an alarm state change it could forge), and no other bus
    denied(put_as_publisher(PROD_BUS, **ALARMS), "an alarm state change on the stage's bus")
    denied(
        put_as_publisher(PROD_BUS, **{**PERSISTS, "events:detail-type": "Drift Gone"}), "another drift event"
    )
    denied(put(stage, publisher.principal, list(publisher.policies), **PERSISTS), "the tooling bus directly")
    # ... and the only alarm it may describe is its own stage's drift alarm
    for alarm, verdict in ((f"{PREFIX}-prod-drift", allowed), (f"{PREFIX}-prod-rollback", denied)):
        arn = f"arn:aws:cloudwatch:{REGION}:{PROD}:alarm:{alarm}"
        request = Request(publisher.principal, "cloudwatch:DescribeAlarms", arn, IN_ORG)
        verdict(authorize(request, identity=list(publisher.policies), resource=[]), f"describing {alarm}")


def _retraining_rules(stage: StagePolicies) -> dict[str, EventPattern]:
    """The stage-events bus's rules whose target is the retraining trigger, by logical ID."""
    (trigger,) = [
        lid
        for lid in stage.resources("monitoring", "AWS::Lambda::Function")
        if lid.startswith("RetrainTrigger")
    ]
    return {
        lid: EventPattern.load(json.dumps(stage.resolve("monitoring", rule["Properties"]["EventPattern"])))
        for lid, rule in stage.resources("monitoring", "AWS::Events::Rule").items()
        if "EventBusName" in rule["Properties"]
        and any(t["Arn"] == {"Fn::GetAtt": [trigger, "Arn"]} for t in rule["Properties"]["Targets"])
    }


@pytest.mark.parametrize(
    ("account", "alarm", "retrains"),
    [
        (PROD, f"{PREFIX}-prod-drift", True),
        # a stage account naming another stage's drift alarm (or its own non-drift alarm) reaches nothing
        (STAGING, f"{PREFIX}-prod-drift", False),
        (PROD, f"{PREFIX}-staging-drift", False),
        (PROD, f"{PREFIX}-prod-rollback", False),
        (FOREIGN, f"{PREFIX}-prod-drift", False),
    ],
)
def test_persisting_drift_retrains_only_for_its_own_stages_alarm(
    stage: StagePolicies, account: str, alarm: str, retrains: bool
) -> None:
    # GIVEN a Drift Persists event as it arrives on the tooling bus (EventBridge stamps the account)
    event = {
        "version": "0",
        "id": "1",
        "source": "mlops.drift",
        "detail-type": "Drift Persists",
        "account": account,
        "time": "2026-12-06T00:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": {"alarmName": alarm, "reason": "drift persists"},
    }
    # WHEN the bus's rules that start retraining match it
    matched = sorted(
        lid[:-8] for lid, pattern in _retraining_rules(stage).items() if pattern.matches_event(event)
    )
    # THEN only prod's own alarm from prod's account reaches the trigger
    assert matched == (["StageEventsPersistentDriftProd"] if retrains else [])
