"""The approval rule's pattern, run through EventBridge's matching as moto implements it.

moto 5.2 does not implement the TestEventPattern API (``NotImplementedError``), so the pattern is
checked two ways: directly with the matcher moto's event buses route with
(``moto.events.models.EventPattern``), and end to end (``put_rule`` with the pattern, an SQS
target, ``put_events``) so the pattern is also accepted by the API and routes what it should.

Only an Approved state change of this project's group may start a deploy: not a fresh
registration (PendingManualApproval), not a rejection, not another group, not another event.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.events.models import EventPattern

from stacks.delivery.events import MODEL_PACKAGE_STATE_CHANGE, approval_pattern

GROUP = "mlops-demo-dev-models"
ACCOUNT, REGION = "111122223333", "eu-west-1"
PACKAGE_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/3"
#: The shape SageMaker publishes for a model package state change (fields as in the AWS docs).
EVENT: dict[str, Any] = {
    "version": "0",
    "id": "5c9fe6a2-3a3e-4b4e-9c4a-0c5d1e2f3a4b",
    "detail-type": MODEL_PACKAGE_STATE_CHANGE,
    "source": "aws.sagemaker",
    "account": ACCOUNT,
    "time": "2026-11-28T19:00:00Z",
    "region": REGION,
    "resources": [PACKAGE_ARN],
    "detail": {
        "ModelPackageGroupName": GROUP,
        "ModelPackageVersion": 3,
        "ModelPackageArn": PACKAGE_ARN,
        "ModelPackageName": f"{GROUP}/3",
        "CreationTime": 1764355200000,
        "ModelApprovalStatus": "Approved",
        "ModelPackageStatus": "Completed",
        "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
        "InferenceSpecification": {"SupportedContentTypes": ["text/csv", "application/json"]},
    },
}


def _with(**changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(EVENT)
    for key, value in changes.items():
        if key in ("source", "detail_type"):
            event[key.replace("_", "-")] = value
        else:
            event["detail"][key] = value
    return event


REJECTED: dict[str, dict[str, Any]] = {
    "pending": _with(ModelApprovalStatus="PendingManualApproval"),
    "rejected": _with(ModelApprovalStatus="Rejected"),
    "other-group": _with(ModelPackageGroupName="someone-elses-models"),
    "prefix-lookalike": _with(ModelPackageGroupName=f"{GROUP}-shadow"),
    "case-lookalike": _with(ModelApprovalStatus="approved"),
    "other-detail-type": _with(detail_type="SageMaker Model Package Group State Change"),
    "other-source": _with(source="custom.sagemaker"),
}


@pytest.fixture
def matches() -> Any:
    pattern = EventPattern.load(json.dumps(approval_pattern(GROUP)))

    def match(event: dict[str, Any]) -> bool:
        return bool(pattern.matches_event(json.loads(json.dumps(event))))

    return match


def test_an_approved_version_of_this_group_starts_a_deploy(matches: Any) -> None:
    assert matches(EVENT)


@pytest.mark.parametrize("event", REJECTED.values(), ids=REJECTED.keys())
def test_anything_else_does_not(matches: Any, event: dict[str, Any]) -> None:
    assert not matches(event)


def test_the_matcher_is_not_vacuous(matches: Any) -> None:
    # GIVEN the real pattern accepts the approved event, WHEN the group field is removed from an
    # event THEN it no longer matches: the matcher reads the detail fields, not just the source.
    event = copy.deepcopy(EVENT)
    del event["detail"]["ModelPackageGroupName"]
    assert not matches(event)


@mock_aws
def test_on_the_default_bus_only_the_approval_reaches_the_target() -> None:
    # GIVEN the rule on the default bus with a queue as its target
    events, sqs = boto3.client("events", region_name=REGION), boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="deploys")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="on-approved", EventPattern=json.dumps(approval_pattern(GROUP)))
    events.put_targets(Rule="on-approved", Targets=[{"Id": "deploy", "Arn": queue_arn}])
    # WHEN every event is published, each marked with its case in the detail
    cases = {"approved": EVENT, **REJECTED}
    entries = [
        {
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Resources": event["resources"],
            "Detail": json.dumps({**event["detail"], "case": case}),
        }
        for case, event in cases.items()
    ]
    assert events.put_events(Entries=entries)["FailedEntryCount"] == 0
    # THEN exactly the approval was delivered
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"])["detail"]["case"] for m in received] == ["approved"]
