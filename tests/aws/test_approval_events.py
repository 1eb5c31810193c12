"""The approval rule's pattern, run through an EventBridge pattern matcher (moto's).

moto 5.2 does not implement the TestEventPattern API, so this uses the matcher its event buses
route ``put_events`` with (``moto.events.models.EventPattern``).

Only an Approved state change of this project's group may start a deploy: not a fresh
registration (PendingManualApproval), not a rejection, not another group, not another event.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from stacks.delivery.events import MODEL_PACKAGE_STATE_CHANGE, approval_pattern

GROUP = "mlops-demo-dev-models"
EVENT: dict[str, Any] = {
    "version": "0",
    "id": "5c9fe6a2-3a3e-4b4e-9c4a-0c5d1e2f3a4b",
    "detail-type": MODEL_PACKAGE_STATE_CHANGE,
    "source": "aws.sagemaker",
    "account": "111122223333",
    "time": "2026-11-28T19:00:00Z",
    "region": "eu-west-1",
    "resources": [f"arn:aws:sagemaker:eu-west-1:111122223333:model-package/{GROUP}/3"],
    "detail": {
        "ModelPackageGroupName": GROUP,
        "ModelPackageVersion": 3,
        "ModelPackageArn": f"arn:aws:sagemaker:eu-west-1:111122223333:model-package/{GROUP}/3",
        "CreationTime": 1764355200000,
        "ModelApprovalStatus": "Approved",
        "ModelPackageStatus": "Completed",
    },
}


@pytest.fixture
def matches() -> Any:
    pattern = EventPattern.load(json.dumps(approval_pattern(GROUP)))

    def match(event: dict[str, Any]) -> bool:
        return bool(pattern.matches_event(json.loads(json.dumps(event))))

    return match


def _with(**changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(EVENT)
    for key, value in changes.items():
        if key in ("source", "detail_type"):
            event[key.replace("_", "-")] = value
        else:
            event["detail"][key] = value
    return event


def test_an_approved_version_of_this_group_starts_a_deploy(matches: Any) -> None:
    assert matches(EVENT)


@pytest.mark.parametrize(
    "event",
    [
        _with(ModelApprovalStatus="PendingManualApproval"),
        _with(ModelApprovalStatus="Rejected"),
        _with(ModelPackageGroupName="someone-elses-models"),
        _with(ModelPackageGroupName=f"{GROUP}-shadow"),
        _with(detail_type="SageMaker Model Package Group State Change"),
        _with(source="custom.sagemaker"),
    ],
    ids=["pending", "rejected", "other-group", "prefix-lookalike", "other-detail-type", "other-source"],
)
def test_anything_else_does_not(matches: Any, event: dict[str, Any]) -> None:
    assert not matches(event)


def test_the_matcher_is_not_vacuous(matches: Any) -> None:
    # GIVEN the real pattern accepts the approved event, WHEN the group filter is removed from an
    # event THEN it no longer matches: the matcher reads the detail fields, not just the source.
    event = copy.deepcopy(EVENT)
    del event["detail"]["ModelPackageGroupName"]
    assert not matches(event)
