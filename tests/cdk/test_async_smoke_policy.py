"""The deploy build of an async stage may smoke-test it through its S3 folders, and nothing wider.

``release.smoke`` invokes an async endpoint with ``InvokeEndpointAsync``: it puts each sample under
``async-inference/<endpoint>/input/`` and reads the answer from ``output/`` or ``failures/``. One synth
of dev with staging served asynchronously (the guardrails run in it: a finding fails the synth).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from platform_synth import synth_platform
from test_delivery_stack import _own_statements

PREFIX = "mlops-demo-dev"


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    def edit(context: dict[str, Any]) -> None:
        staging = context["environments"]["dev"]["endpoints"]["staging"]
        staging.pop("serverless", None)
        staging.update({"async": {}, "idleAlarmDays": 0, "dataCapturePercent": 0})

    out = tmp_path_factory.mktemp("async-smoke")
    return synth_platform(out, edit=edit, approved=False).raw["delivery"]


def _by_sid(template: dict[str, Any], stage: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in _own_statements(template, f"{PREFIX}-deploy-{stage}") if "Sid" in s}


def _text(statement: dict[str, Any]) -> str:
    return json.dumps(statement["Resource"])


def test_the_async_stage_build_round_trips_through_its_own_folders_only(delivery: dict[str, Any]) -> None:
    staging = _by_sid(delivery, "staging")
    assert staging["InvokeTheStageEndpoint"]["Action"] == "sagemaker:InvokeEndpointAsync"
    assert f"endpoint/{PREFIX}-staging" in _text(staging["InvokeTheStageEndpoint"])
    put, read = staging["PutAsyncRequests"], staging["ReadAsyncAnswers"]
    assert put["Action"] == "s3:PutObject"
    assert f"/async-inference/{PREFIX}-staging/input/*" in _text(put)
    assert "output/" not in _text(put)
    assert "failures/" not in _text(put)
    assert read["Action"] == "s3:GetObject"
    assert f"/async-inference/{PREFIX}-staging/output/*" in _text(read)
    assert f"/async-inference/{PREFIX}-staging/failures/*" in _text(read)
    listing = staging["ListAsyncFolder"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": [f"async-inference/{PREFIX}-staging/*"]}}
    assert staging["EncryptAsyncRequests"]["Action"] == "kms:GenerateDataKey"


def test_a_real_time_stage_build_keeps_invoke_endpoint_and_no_async_folders(delivery: dict[str, Any]) -> None:
    prod = _by_sid(delivery, "prod")
    assert prod["InvokeTheStageEndpoint"]["Action"] == "sagemaker:InvokeEndpoint"
    assert not {"PutAsyncRequests", "ReadAsyncAnswers", "ListAsyncFolder"} & set(prod)
    # both describe their endpoint and its configs (smoke checks the mode first), nothing else
    for stage, sids in (("staging", _by_sid(delivery, "staging")), ("prod", prod)):
        describe = sids["DescribeTheStageEndpoint"]
        assert sorted(describe["Action"]) == [
            "sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig",
        ]  # fmt: skip
        assert f"endpoint-config/{PREFIX}-{stage}-*" in _text(describe)
