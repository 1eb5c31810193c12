"""`make demo ENV=multi` end to end (issue 13 point 6): the shipped multi-account example trains and
registers in the tooling account, deploys each stage's endpoint stack into its own account and
smoke-tests it there through the stage's smoke role, on the stand-in (moto keys state by account);
the drift check runs in the prod account, and its alarm, routed by the synthesized rules through the
tooling account's stage-events bus, starts one retraining run in the tooling account.

One run, registering one version (`--runs 1`), keeps it to the two real synths and one training run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from app_synth import use_in_process_synth
from moto.sagemaker.models import sagemaker_backends

from demo import story
from emulator.standins import ACCOUNT, REGION

pytestmark = [pytest.mark.slow, pytest.mark.cli]

TOOLING, STAGING, PROD = "111111111111", "222222222222", "333333333333"
PREFIX = "mlops-demo-multi"


def _endpoints_in(account: str) -> set[str]:
    """The endpoints moto holds for `account` (its state outlives the server, until the next reset)."""
    return set(sagemaker_backends[account][REGION].endpoints)


def _pipelines_in(account: str) -> set[str]:
    return set(sagemaker_backends[account][REGION].pipelines)


def test_the_multi_account_demo_ships_each_stage_into_its_own_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_in_process_synth(monkeypatch)  # both synths in this process (app_synth.py says why)
    # WHEN the demo runs the multi environment (synth, one training run, release)
    code = story.main(["--env", "multi", "--work-dir", str(tmp_path), "--runs", "1"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0, "\n".join(lines[-40:])
    # THEN training and registration happened in the tooling account
    assert f"  tooling account {TOOLING}: pipeline, registry and training act as " in "\n".join(lines)
    [registered] = [line.split()[-1] for line in lines if line.startswith("  registered: ")]
    assert registered == f"arn:aws:sagemaker:{REGION}:{TOOLING}:model-package/{PREFIX}-models/1"
    # ... each stage was deployed in its own account, as that account's CDK bootstrap deploy role
    for stage, account in (("staging", STAGING), ("prod", PROD)):
        role = f"cdk-hnb659fds-deploy-role-{account}-{REGION}"
        assert f"    in account {account}, deployed as arn:aws:iam::{account}:role/{role}" in lines
        # ... its deploy build tagged the version as shipped there (the stage's roles read only that)
        build = f"arn:aws:sts::{TOOLING}:assumed-role/{PREFIX}-{stage}-deploy/deploy-build"
        tagged = f"    tagged 3 object(s) of v1 mlops:released-{stage}=true as {build} (release.release_tag)"
        assert tagged in lines
        # ... SageMaker read the model as the stage's model role, which the tooling bucket admits by name
        model_role = f"arn:aws:sts::{account}:assumed-role/{PREFIX}-{stage}-model/"
        assert any(
            line.startswith(f"    model.tar.gz read from the tooling bucket as {model_role}")
            for line in lines
        )
        # ... and the smoke test went through the stage's smoke role to the endpoint in that account
        smoke_role = f"arn:aws:sts::{account}:assumed-role/{PREFIX}-{stage}-smoke/smoke-{PREFIX}-{stage}"
        assert f"    smoke test as {smoke_role} (release.smoke --role-arn's session)" in lines
        endpoint = f"arn:aws:sagemaker:{REGION}:{account}:endpoint/{PREFIX}-{stage}"
        assert f"    it invokes {endpoint} (InService); the locally served model answers" in lines
    assert sum("(binary)" in line and line.endswith(": PASSED") for line in lines) == 2
    # ... the stand-in holds each endpoint in its stage's account only
    assert _endpoints_in(STAGING) == {f"{PREFIX}-staging"}
    assert _endpoints_in(PROD) == {f"{PREFIX}-prod"}
    assert not _endpoints_in(TOOLING)
    assert not _endpoints_in(ACCOUNT)
    # ... the drift check ran in the prod account, as its own role there
    drift_role = f"arn:aws:sts::{PROD}:assumed-role/{PREFIX}-prod-drift/drift-check"
    assert f"    in account {PROD}, as {drift_role}" in lines
    assert _pipelines_in(PROD) == {f"{PREFIX}-prod-drift-check"}
    assert any(line.startswith(f"  alarm {PREFIX}-prod-drift (account {PROD}): ALARM (") for line in lines)
    # ... its alarm crossed to the tooling account's bus, which told the team and the trigger there
    routed = [line for line in lines if line.startswith("    → ")]
    assert all(f"in account {TOOLING} (rule " in line for line in routed), routed
    assert all(line.endswith(f" via bus {PREFIX}-stage-events)") for line in routed), routed
    assert sorted(line.split()[1] for line in routed) == ["function", "topic"]
    told = f"        {PREFIX}-prod-drift (account {PROD}) is ALARM: Violations Maximum = "
    assert any(line.startswith(told) for line in lines)
    # ... and the trigger there started exactly one retraining run of the tooling account's pipeline
    assert any(line.startswith("  retraining trigger: start — ") for line in lines)
    again = "  the same alarm again: no start — "
    assert any(line.startswith(again) and "rate cap" in line for line in lines)
    execution = f"arn:aws:sagemaker:{REGION}:{TOOLING}:pipeline/{PREFIX}-training/execution/"
    assert any(line.startswith(f"  retraining run {execution}") for line in lines)
    assert lines[-1] == (
        "  result:            released to staging and prod; drift detected on prod traffic; retraining "
        "registered v2 (PendingManualApproval) for review"
    )
