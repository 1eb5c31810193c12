"""`make demo USE_CASE=fraud` (issue 18 point 5): the shipped two-use-case env `cases` runs the
project's own use case and fraud on one stand-in, and each keeps to its own registry group,
endpoints and bucket — checked here in moto's own state, not in what the demo prints.

The end-to-end test is one run (`--runs 1`): two real synths, a training run per use case, both
released, both drift checks and the retraining run each starts. The other tests are fast: the
proof's verdict on made-up holdings, the pipeline's group among several, the use case's name.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from app_synth import use_in_process_synth
from moto.s3.models import s3_backends
from moto.sagemaker.models import sagemaker_backends

from demo import story
from demo.side_by_side import Holdings, Owner, crossings
from demo.use_case_act import use_case_of
from emulator.cfn import Assembly
from emulator.provision import OfflinePipeline, ProvisionError, pipeline_from
from emulator.standins import ACCOUNT, REGION
from ml_code import contract

PRIMARY, FRAUD = "mlops-demo-cases", "mlops-demo-cases-fraud"
BUCKET = "local-{prefix}-data-artifactbucket"


def _runs_in(bucket: str) -> set[str]:
    """The execution IDs with a folder under pipeline-runs/ in moto's copy of ``bucket``."""
    keys = s3_backends[ACCOUNT]["global"].buckets[bucket].keys
    return {str(key).split("/")[1] for key in keys if str(key).startswith("pipeline-runs/")}


def _executions_of(pipeline: str) -> set[str]:
    executions = sagemaker_backends[ACCOUNT][REGION].pipelines[pipeline].pipeline_executions
    return {arn.rsplit("/", 1)[-1] for arn in executions}


def _served_group(endpoint: Any) -> str:
    """The model package group of the version an endpoint serves (endpoint → config → model)."""
    backend = sagemaker_backends[ACCOUNT][REGION]
    config = backend.endpoint_configs[endpoint.endpoint_config_name]
    model = backend._models[config.production_variants[0]["ModelName"]]
    package_arn = (model.containers or [model.primary_container])[0]["ModelPackageName"]
    return str(package_arn.split("/")[-2])


@pytest.mark.slow
@pytest.mark.cli
def test_two_use_cases_live_side_by_side_on_one_stand_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_in_process_synth(monkeypatch)  # both synths in this process (app_synth.py says why)
    # WHEN the demo runs the cases env with the fraud use case (one training run each)
    code = story.main(["--env", "cases", "--use-case", "fraud", "--work-dir", str(tmp_path), "--runs", "1"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0, "\n".join(lines[-60:])
    backend = sagemaker_backends[ACCOUNT][REGION]
    # THEN the stand-in holds one group per use case, each with its own versions: v1 trained and
    # approved, v2 registered by the retraining run its own drift alarm started
    assert set(backend.model_package_groups) == {f"{PRIMARY}-models", f"{FRAUD}-models"}
    by_group: dict[str | None, list[tuple[int | None, str | None, str]]] = {}
    for package in backend.model_packages.values():
        url = package.inference_specification["Containers"][0]["ModelDataUrl"]
        by_group.setdefault(package.model_package_group_name, []).append(
            (package.model_package_version, package.model_approval_status, url.split("/")[2])
        )
    for prefix in (PRIMARY, FRAUD):
        bucket = BUCKET.format(prefix=prefix)
        assert sorted(by_group[f"{prefix}-models"]) == [
            (1, "Approved", bucket),
            (2, "PendingManualApproval", bucket),
        ]
    # ... both sets of endpoints, each serving a version of its own use case's group
    served = {name: _served_group(endpoint) for name, endpoint in backend.endpoints.items()}
    assert served == {
        f"{prefix}-{stage}": f"{prefix}-models"
        for prefix in (PRIMARY, FRAUD)
        for stage in ("staging", "prod")
    }
    assert {e.endpoint_status for e in backend.endpoints.values()} == {"InService"}
    # ... each bucket holds only its own pipeline's runs: the first run and the retraining run
    for prefix, other in ((PRIMARY, FRAUD), (FRAUD, PRIMARY)):
        runs = _runs_in(BUCKET.format(prefix=prefix))
        assert runs == _executions_of(f"{prefix}-training")
        assert len(runs) == 2
        assert not runs & _executions_of(f"{other}-training")
    # ... the fraud data was the sample data under its own target, in its own input prefix
    fraud_bucket = s3_backends[ACCOUNT]["global"].buckets[BUCKET.format(prefix=FRAUD)]
    header = fraud_bucket.keys["data/fraud/fraud.csv"].value.decode().splitlines()[0].split(",")
    assert "is_fraud" in header
    assert contract.SAMPLE_TARGET_COLUMN not in header
    # ... each use case's release read its own model file
    for name, prefix in (("cases", PRIMARY), ("cases-fraud", FRAUD)):
        resolved = json.loads((tmp_path / "project" / f".build/release/{name}-prod.json").read_text())
        assert f"model-package/{prefix}-models/1" in json.dumps(resolved)
    # ... each drift alarm reached only its own use case's retraining trigger
    routed = [line for line in lines if line.startswith("    → function ")]
    reached = [line.split()[2] for line in routed]
    assert len(reached) == 2
    assert reached[0].startswith(f"local-{PRIMARY}-monitoring-retraintrigger")
    assert reached[1].startswith(f"local-{FRAUD}-monitoring-retraintrigger")
    # ... and the printed proof, read back from the stand-in, agrees
    assert lines[-1] == "  result:            mlops-demo and fraud side by side, neither touching the other"
    assert not [line for line in lines if line.startswith("  CROSSED: ")]
    for prefix in (PRIMARY, FRAUD):
        assert f"    endpoint:  {prefix}-prod InService, serving {prefix}-models v1" in lines


def _holdings(name: str, prefix: str, **changes: Any) -> Holdings:
    training = OfflinePipeline(f"{prefix}-training", {}, "role", f"{prefix}-models")
    bucket = BUCKET.format(prefix=prefix)
    held = Holdings(
        owner=Owner(name, prefix, training, ("staging", "prod")),
        bucket=bucket,
        versions=((1, "Approved", bucket),),
        endpoints=((f"{prefix}-prod", "InService", f"{prefix}-models", 1),),
        runs=frozenset({f"{name}-run"}),
        checks=frozenset({f"{name}-check"}),
        captures=frozenset({f"{prefix}-prod"}),
        executions=frozenset({f"{name}-run"}),
        check_executions=frozenset({f"{name}-check"}),
    )
    return dataclasses.replace(held, **changes)


@pytest.mark.parametrize(
    ("changes", "crossed"),
    [
        ({"runs": frozenset({"p-run", "f-run"})}, "p's bucket local-p-data-artifactbucket holds a run of"),
        ({"checks": frozenset({"f-check"})}, "p's bucket local-p-data-artifactbucket holds a run of"),
        ({"versions": ((1, "Approved", "local-f-data-artifactbucket"),)}, "p's v1 has its model in local-f"),
        ({"endpoints": (("p-prod", "InService", "f-models", 1),)}, "p's endpoint p-prod serves a version of"),
        ({"captures": frozenset({"p-prod", "f-prod"})}, "holds f-prod's captured traffic"),
        ({"runs": frozenset()}, "holds no training run at all"),
    ],
    ids=["foreign run", "foreign check", "model elsewhere", "foreign version", "foreign capture", "no run"],
)
def test_the_proof_names_what_crossed(changes: dict[str, Any], crossed: str) -> None:
    # GIVEN two use cases' holdings, one of them holding something of the other (or nothing)
    held = [_holdings("p", "p", **changes), _holdings("f", "f")]
    # THEN the proof names it; untouched holdings cross nothing
    [problem] = crossings(held)
    assert crossed in problem
    assert crossings([_holdings("p", "p"), _holdings("f", "f")]) == []


def _pipeline(name: str, groups: list[str]) -> dict[str, Any]:
    body = {"Steps": [{"Name": "Register", "Arguments": {"ModelPackageGroupName": g}} for g in groups]}
    return {
        "Type": "AWS::SageMaker::Pipeline",
        "Properties": {
            "PipelineName": name,
            "PipelineDefinition": {"PipelineDefinitionBody": json.dumps(body)},
        },
    }


def _group(name: str) -> dict[str, Any]:
    return {"Type": "AWS::SageMaker::ModelPackageGroup", "Properties": {"ModelPackageGroupName": name}}


def test_a_pipeline_registers_in_the_group_its_definition_names() -> None:
    # GIVEN two use cases' groups and pipelines, and a drift check naming no group
    templates = {
        "data": {"Resources": {"A": _group("a-models"), "B": _group("a-b-models")}},
        "pipes": {
            "Resources": {
                "A": _pipeline("a-training", ["a-models"]),
                "B": _pipeline("a-b-training", ["a-b-models"]),
                "Check": _pipeline("a-drift-check", []),
                "Both": _pipeline("both", ["a-models", "a-b-models"]),
            }
        },
    }
    assembly = Assembly(templates=templates)
    # THEN each training pipeline gets its own group, picked by its full name
    assert pipeline_from(assembly, "a-training").group == "a-models"
    assert pipeline_from(assembly, "a-b-training").group == "a-b-models"
    # ... the drift check none (there are several), and asking for it says so
    check = pipeline_from(assembly, "-drift-check")
    assert check.model_package_group is None
    with pytest.raises(ProvisionError, match="a-drift-check names no model package group"):
        _ = check.group
    # ... and a definition naming two groups is refused
    with pytest.raises(ProvisionError, match="names several model package groups: a-b-models, a-models"):
        pipeline_from(assembly, "both")


def test_the_use_case_must_be_an_additional_one_of_the_environment() -> None:
    config = story.demo_config("dev")
    with pytest.raises(SystemExit, match="environment dev has no additional use case of that name"):
        use_case_of(config, "fraud")
    cases = story.demo_config("cases")
    assert use_case_of(cases, "fraud").prefix == FRAUD
    with pytest.raises(SystemExit, match=r"\(its useCases: fraud\)"):
        use_case_of(cases, "mlops-demo")
