"""Event patterns of the delivery loop, as plain dicts so tests can run them through a matcher."""

from __future__ import annotations

from typing import Any, Final

MODEL_PACKAGE_STATE_CHANGE: Final = "SageMaker Model Package State Change"


def approval_pattern(group_name: str) -> dict[str, Any]:
    """Matches *only* a version of ``group_name`` changing to Approved.

    Not PendingManualApproval (a fresh registration), not Rejected, not another project's group:
    the mistakes that make public samples deploy models nobody approved.
    """
    return {
        "source": ["aws.sagemaker"],
        "detail-type": [MODEL_PACKAGE_STATE_CHANGE],
        "detail": {"ModelPackageGroupName": [group_name], "ModelApprovalStatus": ["Approved"]},
    }
