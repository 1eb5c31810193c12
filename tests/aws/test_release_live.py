"""release.live: whether every endpoint stack already serves the resolved version (moto CloudFormation)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from release import live

REGION = "us-east-1"
STAGING, PROD = "mlops-demo-dev-endpoint-staging", "mlops-demo-dev-endpoint-prod"


@pytest.fixture
def cloudformation() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cloudformation", region_name=REGION)


def _endpoint_stack(client: Any, name: str, version: int) -> None:
    """A stack with the endpoint stacks' ModelVersion output (and one resource, as CloudFormation needs)."""
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"ModelVersion": {"Value": str(version)}, "EndpointName": {"Value": name}},
    }
    client.create_stack(StackName=name, TemplateBody=json.dumps(template))


def _run(client: Any, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = live.main(list(argv), cloudformation=client)
    return code, capsys.readouterr().out.strip()


def test_live_on_every_stage_exits_0(cloudformation: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _endpoint_stack(cloudformation, STAGING, 3)
    _endpoint_stack(cloudformation, PROD, 3)
    code, out = _run(cloudformation, capsys, "--version", "3", "--stack", STAGING, "--stack", PROD)
    assert code == 0
    assert out == f"version 3 is already live: {STAGING} serves 3, {PROD} serves 3"


def test_a_stage_on_another_version_ships(cloudformation: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # e.g. staging has 3 but prod was never approved past the gate, or 3 was rolled back there
    _endpoint_stack(cloudformation, STAGING, 3)
    _endpoint_stack(cloudformation, PROD, 2)
    code, out = _run(cloudformation, capsys, "--version", "3", "--stack", STAGING, "--stack", PROD)
    assert code == live.NOT_LIVE == 3
    assert out.endswith(f"{PROD} serves 2")


def test_a_stage_not_deployed_yet_ships(cloudformation: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _endpoint_stack(cloudformation, STAGING, 3)
    code, out = _run(cloudformation, capsys, "--version", "3", "--stack", STAGING, "--stack", PROD)
    assert code == 3
    assert out.endswith(f"{PROD} serves nothing")


def test_an_aws_error_exits_2_so_the_build_ships(capsys: pytest.CaptureFixture[str]) -> None:
    class Denied:
        def describe_stacks(self, **_: Any) -> Any:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeStacks")

    assert live.main(["--version", "3", "--stack", PROD], cloudformation=Denied()) == 2
    assert "AccessDenied" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--stack", PROD], ["--version", "0", "--stack", PROD], ["--version", "3"]])
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        live.parse_args(argv)
    assert exited.value.code == 2
