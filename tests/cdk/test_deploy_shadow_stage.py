"""The deploy pipeline's Shadow stage: Source → Staging → Shadow → Approve → Prod, with prod.shadow.

One module-scoped synth of dev with ``endpoints.prod.shadow`` set (window 30 min, 50 pairs), and
one without it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from platform_synth import resources, synth_platform
from test_delivery_stack import _buildspec, _commands, _own_statements, _pipelines, _project

from release import shadow_report
from stacks.delivery import shadow_commands
from stacks.delivery.deploy_pipeline import DEPLOY_TIMEOUT_MINUTES

PREFIX = "mlops-demo-dev"
SHADOW_PROJECT = f"{PREFIX}-deploy-prod-shadow"


def _synth(tmp_path_factory: pytest.TempPathFactory, shadow: dict[str, Any] | None) -> dict[str, Any]:
    def edit(context: dict[str, Any]) -> None:
        prod = context["environments"]["dev"]["endpoints"]["prod"]
        prod.pop("shadow", None)
        if shadow is not None:
            prod["shadow"] = shadow

    return synth_platform(tmp_path_factory.mktemp("shadow"), edit=edit, approved=False).raw["delivery"]


@pytest.fixture(scope="module")
def shadowed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _synth(tmp_path_factory, {"windowMinutes": 30, "minRequests": 50, "samplingPercent": 50})


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _synth(tmp_path_factory, None)


def test_the_exported_variables_are_the_reports() -> None:
    assert shadow_commands.EXPORTED == shadow_report.EXPORTED


def test_shadow_runs_between_staging_and_the_gate(shadowed: dict[str, Any], plain: dict[str, Any]) -> None:
    deploy = _pipelines(shadowed)[f"{PREFIX}-deploy"]
    assert [s["Name"] for s in deploy["Stages"]] == ["Source", "Staging", "Shadow", "Approve", "Prod"]
    (action,) = deploy["Stages"][2]["Actions"]
    assert action["Namespace"] == "Shadow"
    # it reads the staged version's file, like the prod build
    assert {a["Name"] for a in action["InputArtifacts"]} == {"Source", "Staging"}
    # without prod.shadow the pipeline is as before
    assert [s["Name"] for s in _pipelines(plain)[f"{PREFIX}-deploy"]["Stages"]] == [
        "Source", "Staging", "Approve", "Prod",
    ]  # fmt: skip
    assert not [p for p in resources(plain, "AWS::CodeBuild::Project").values()
                if p["Properties"]["Name"] == SHADOW_PROJECT]  # fmt: skip


def test_the_gate_shows_the_reports_figures_through_variables(shadowed: dict[str, Any]) -> None:
    deploy = _pipelines(shadowed)[f"{PREFIX}-deploy"]
    (gate,) = deploy["Stages"][3]["Actions"]
    text = json.dumps(gate["Configuration"]["CustomData"])
    assert "#{Staging.MODEL_VERSION}" in text
    assert "#{Shadow.SHADOW_SUMMARY}" in text
    assert f"ran as the shadow of {PREFIX}-prod" in text
    assert f"#/endpoints/{PREFIX}-prod" in json.dumps(gate["Configuration"]["ExternalEntityLink"])


def test_the_build_shadows_waits_the_window_and_reports(shadowed: dict[str, Any]) -> None:
    spec = _buildspec(shadowed, SHADOW_PROJECT)
    assert spec["env"]["exported-variables"] == ["MODEL_VERSION", *shadow_report.EXPORTED]
    read, defaults, remove, shadow, deploy, wait, report = _commands(shadowed, SHADOW_PROJECT)
    assert read.startswith("export MODEL_VERSION=")
    assert defaults.startswith('export SHADOW_SUMMARY="no shadow test')
    model_file = ".build/release/dev-prod.json"
    assert remove == f"rm -f {model_file}"
    assert shadow.startswith(
        f".venv/bin/python -m release.shadow --group {PREFIX}-models --stage-file {model_file}"
    )
    assert shadow.endswith(f"--endpoint {PREFIX}-prod --version $MODEL_VERSION")
    guard = f"if [ -f {model_file} ]; then"
    assert deploy.startswith(guard)
    assert f"cdk deploy {PREFIX}-endpoint-prod --exclusively" in deploy
    assert wait.startswith(guard)
    assert "sleep 1800 ;" in wait
    assert report.startswith(guard)
    assert "release.shadow_report --endpoint mlops-demo-dev-prod" in report
    assert '--capture-uri "s3://$MLOPS_ARTIFACT_BUCKET/data-capture/"' in report
    assert "--window-minutes 30 --min-requests 50" in report
    assert report.endswith("&& . ./shadow-report.env ; fi")


def test_the_builds_timeout_covers_the_window(shadowed: dict[str, Any]) -> None:
    _, project = _project(shadowed, SHADOW_PROJECT)
    assert project["TimeoutInMinutes"] == DEPLOY_TIMEOUT_MINUTES + 30
    names = {v["Name"] for v in project["Environment"]["EnvironmentVariables"]}
    assert "MLOPS_ARTIFACT_BUCKET" in names


def test_the_build_reads_prods_model_capture_and_latency_only(shadowed: dict[str, Any]) -> None:
    statements = {s.get("Sid"): s for s in _own_statements(shadowed, SHADOW_PROJECT)}
    served = statements["ReadServedModel"]
    assert sorted(served["Action"]) == [
        "sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel",
    ]  # fmt: skip
    resources_text = json.dumps(served["Resource"])
    assert f"endpoint/{PREFIX}-prod" in resources_text
    assert f"{PREFIX}-staging" not in resources_text
    capture = json.dumps(statements["ReadShadowCapture"]["Resource"])
    assert f"/data-capture/{PREFIX}-prod/*" in capture
    assert statements["ReadShadowCapture"]["Action"] == "s3:GetObject"
    assert statements["ListShadowCapture"]["Condition"] == {
        "StringLike": {"s3:prefix": [f"data-capture/{PREFIX}-prod/*"]}
    }
    assert statements["ReadVariantLatency"]["Action"] == "cloudwatch:GetMetricStatistics"
    # it may not invoke any endpoint (the smoke test is the staging and prod builds')
    assert "sagemaker:InvokeEndpoint" not in json.dumps(list(statements.values()))


def test_every_reader_of_the_shadow_variant_names_the_endpoint_configs() -> None:
    from functions import select_capture  # noqa: PLC0415
    from ml_code.serving.shadow import SHADOW_VARIANT as SERVED  # noqa: PLC0415
    from release.shadow_sources import SHADOW_VARIANT as REPORTED  # noqa: PLC0415
    from stacks.endpoint.shadow import SHADOW_VARIANT  # noqa: PLC0415

    assert select_capture.SHADOW_VARIANT == SERVED == REPORTED == SHADOW_VARIANT
