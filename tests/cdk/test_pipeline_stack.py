"""Pipeline stack: the CfnPipeline and its Fn::Sub definition, the execution role, the code asset.

Most tests read the session's whole-app synth (guardrails included, so it also proves the stack
has zero unacknowledged cdk-nag/SageMaker findings); the spot switch builds a second app.
"""

from __future__ import annotations

import copy
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from platform_synth import SynthesizedPlatform, cdk_context, resources
from stand_ins import shared_resources, with_network_and_topic

from contracts.config import load_config
from stacks.pipeline.source_bundle import SHIMS
from stacks.pipeline_stack import PipelineStack

_VARIABLE = re.compile(r"\$\{([^}]+)\}")


@pytest.fixture(scope="module")
def template(synthesized: SynthesizedPlatform) -> dict[str, Any]:
    """The pipeline stack's training pipeline and its role: dev also builds the batch scoring
    pipeline (``BatchScore*``) beside it, which tests/cdk/test_batch_pipeline.py holds to its rules."""
    path = synthesized.outdir / f"{synthesized.config.prefix}-pipeline.template.json"
    found: dict[str, Any] = json.loads(path.read_text())
    batch = [key for key in found["Resources"] if key.startswith("BatchScore")]
    assert batch, "dev builds the batch pipeline (batch.enabled): update this fixture if it moved"
    found["Resources"] = {k: v for k, v in found["Resources"].items() if k not in batch}
    return found


def _only(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = resources(template, resource_type).items()
    return logical_id, resource["Properties"]


def _body(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    body = _only(template, "AWS::SageMaker::Pipeline")[1]["PipelineDefinition"]["PipelineDefinitionBody"]
    text, variables = body["Fn::Sub"]
    return text, variables


def _definition(template: dict[str, Any]) -> dict[str, Any]:
    return json.loads(_body(template)[0])


def _steps(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    steps = {s["Name"]: s for s in definition["Steps"]}
    for branch in ("IfSteps", "ElseSteps"):
        steps.update({s["Name"]: s for s in steps["QualityGate"]["Arguments"][branch]})
    return steps


def _policies(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The role's customer-managed policies: ``ExecutionRolePolicy...`` (its own) and, when the
    environment tracks runs, ``ExecutionRoleTrackingPolicy...`` (tests/cdk/test_tracking.py)."""
    return {k: r["Properties"] for k, r in resources(template, "AWS::IAM::ManagedPolicy").items()}


def _statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements of the role's own policy (not the tracking server's client policy)."""
    [own] = [p for k, p in _policies(template).items() if k.startswith("ExecutionRolePolicy")]
    statements: list[dict[str, Any]] = own["PolicyDocument"]["Statement"]
    return statements


# ------------------------------------------------------------------ the pipeline resource


def test_pipeline_resource_carries_the_definition_as_fn_sub(template, synthesized):
    role_id, _ = _only(template, "AWS::IAM::Role")
    _, pipeline = _only(template, "AWS::SageMaker::Pipeline")
    assert pipeline["PipelineName"] == f"{synthesized.config.prefix}-training"
    assert pipeline["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    text, variables = _body(template)
    # every ${...} in the JSON is a declared variable or a pseudo parameter
    used = set(_VARIABLE.findall(text))
    assert used - set(variables) == {"AWS::Region", "AWS::URLSuffix"}
    assert set(variables) <= used
    assert [s["Name"] for s in _definition(template)["Steps"]] == [
        "Preprocess",
        "Train",
        "Evaluate",
        "QualityGate",
    ]
    assert len(text.encode()) < 1_000_000  # PipelineDefinitionBody limit


def test_image_resolves_per_region_from_the_sdk_table(template):
    text, variables = _body(template)
    assert variables["ImageRegistry"] == {
        "Fn::FindInMap": ["XgboostImageRegistry", {"Ref": "AWS::Region"}, "Account"]
    }
    assert template["Mappings"]["XgboostImageRegistry"]["us-east-1"] == {"Account": "683313688378"}
    image = "${ImageRegistry}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/sagemaker-xgboost:3.0-5"
    steps = _steps(json.loads(text))
    assert steps["Train"]["Arguments"]["AlgorithmSpecification"]["TrainingImage"] == image
    assert steps["Preprocess"]["Arguments"]["AppSpecification"]["ImageUri"] == image
    assert steps["Register"]["Arguments"]["InferenceSpecification"]["Containers"][0]["Image"] == image


def test_jobs_encrypt_volumes_and_outputs_with_the_project_key(template):
    _, variables = _body(template)
    assert "DataKey" in json.dumps(variables["KmsKeyArn"])
    steps = _steps(_definition(template))
    for name in ("Preprocess", "Evaluate"):
        arguments = steps[name]["Arguments"]
        assert arguments["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == "${KmsKeyArn}"
        assert arguments["ProcessingOutputConfig"]["KmsKeyId"] == "${KmsKeyArn}"
        assert arguments["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True
    train = steps["Train"]["Arguments"]
    assert train["ResourceConfig"]["VolumeKmsKeyId"] == "${KmsKeyArn}"
    assert train["OutputDataConfig"]["KmsKeyId"] == "${KmsKeyArn}"
    assert train["EnableInterContainerTrafficEncryption"] is True


def test_jobs_run_in_the_project_vpc_isolated_where_the_container_allows(template, synthesized):
    _, variables = _body(template)
    subnets = [v for k, v in variables.items() if k.startswith("Subnet")]
    assert len(subnets) == len(synthesized.platform.network.subnets) >= 2
    assert "network" in json.dumps(variables["SecurityGroup"])
    vpc = {
        "SecurityGroupIds": ["${SecurityGroup}"],
        "Subnets": [f"${{Subnet{i}}}" for i in range(len(subnets))],
    }
    steps = _steps(_definition(template))
    assert steps["Preprocess"]["Arguments"]["NetworkConfig"]["VpcConfig"] == vpc
    assert steps["Evaluate"]["Arguments"]["NetworkConfig"]["VpcConfig"] == vpc
    assert steps["Train"]["Arguments"]["VpcConfig"] == vpc
    assert steps["Preprocess"]["Arguments"]["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert steps["Train"]["Arguments"]["EnableNetworkIsolation"] is True
    # evaluate calls the SageMaker API for the champion lookup
    assert steps["Evaluate"]["Arguments"]["NetworkConfig"]["EnableNetworkIsolation"] is False


def test_code_comes_from_the_bundle_asset(template, synthesized):
    # GIVEN the one file asset of the stack, as the CLI would publish it (the other asset is the
    # batch pipeline's ResolveModel function, a zipped folder)
    manifest = json.loads(
        (synthesized.outdir / f"{synthesized.config.prefix}-pipeline.assets.json").read_text()
    )
    [asset] = [
        a for a in manifest["files"].values()
        if a["source"]["packaging"] == "file" and not a["source"]["path"].endswith(".template.json")
    ]  # fmt: skip
    [destination] = asset["destinations"].values()
    key = destination["objectKey"]
    # THEN the definition names exactly that object, and it is a source bundle with the shims
    text, variables = _body(template)
    assert f"s3://${{CodeBucket}}/{key}" in text
    assert "cdk-" in json.dumps(variables["CodeBucket"])
    with tarfile.open(synthesized.outdir / asset["source"]["path"]) as bundle:
        names = bundle.getnames()
    assert set(SHIMS) <= set(names)
    assert "ml_code/contract.py" in names


# ------------------------------------------------------------------ the execution role


def test_role_is_assumed_by_sagemaker_with_only_its_own_policy(template):
    policies = _policies(template)
    assert sorted(k[:-8] for k in policies) in (  # logical IDs end in an 8-digit hash
        ["ExecutionRolePolicy"],
        ["ExecutionRolePolicy", "ExecutionRoleTrackingPolicy"],
    )
    _, role = _only(template, "AWS::IAM::Role")
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}}
    ]
    assert role.get("ManagedPolicyArns") in (None, [])
    assert not resources(template, "AWS::IAM::Policy")  # no inline policies
    for policy in policies.values():
        assert policy["Roles"] == [{"Ref": _only(template, "AWS::IAM::Role")[0]}]
    assert "arn:aws:iam::aws:policy" not in json.dumps(template)


def test_no_wildcard_actions_and_pass_role_only_to_sagemaker_for_itself(template):
    role_id, _ = _only(template, "AWS::IAM::Role")
    statements = _statements(template)
    actions = [
        a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert not [a for a in actions if a.endswith("*")]
    [pass_role] = [s for s in statements if "iam:PassRole" in json.dumps(s["Action"])]
    assert pass_role["Resource"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def test_sagemaker_and_s3_access_is_scoped_to_this_project(template, synthesized):
    statements = {s["Sid"]: s for s in _statements(template)}
    jobs = json.dumps(statements["PipelineJobs"]["Resource"])
    assert "processing-job/pipelines-*" in jobs
    assert "training-job/pipelines-*" in jobs
    register = json.dumps(statements["RegisterForReview"]["Resource"])
    assert f"model-package/{synthesized.config.prefix}-models/*" in register
    assert statements["RegisterForReview"]["Condition"] == {
        "StringEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}
    }
    assert json.dumps(statements["ReadData"]["Resource"]).endswith('"/data/*"]]}')
    runs = json.dumps(statements["ReadWriteRuns"]["Resource"])
    assert '"/pipeline-runs/*"' in runs
    assert '"/pipeline-intermediates/*"' in runs
    # the only Resource "*" statements are for actions without resource-level permissions
    unscoped = {sid for sid, s in statements.items() if s["Resource"] == "*"}
    assert unscoped == {"ListModelVersions", "EcrLogin", "JobMetrics", "InspectNetwork"}
    assert statements["JobMetrics"]["Condition"] == {
        "StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}
    }
    assert "ec2:Vpc" in json.dumps(statements["ManageJobEnisInProjectVpc"]["Condition"])


# ------------------------------------------------------------------ the spot switch


def _pipeline_app(tmp_path: Path, *, use_spot: bool, scale: dict[str, int] | None = None) -> dict[str, Any]:
    context = copy.deepcopy(cdk_context())
    context["environments"]["dev"]["pipeline"]["useSpot"] = use_spot
    if scale is not None:
        context["environments"]["dev"]["pipeline"]["scale"] = scale
    config = load_config(context)
    app = cdk.App(context=context, outdir=str(tmp_path))
    base = cdk.Stack(app, "Base")
    shared = with_network_and_topic(shared_resources(base, config), base)
    stack = PipelineStack(
        app, "Pipeline", config=config.env.pipeline, shared=shared, build_dir=tmp_path / "build"
    )
    return app.synth().get_stack_by_name(stack.stack_name).template


def test_spot_switch_changes_only_the_training_job(template, tmp_path):
    # GIVEN the dev config (spot on) and the same config with spot off
    on = _steps(_definition(template))["Train"]["Arguments"]
    off = _steps(_definition(_pipeline_app(tmp_path, use_spot=False)))["Train"]["Arguments"]
    # THEN spot waits for capacity and checkpoints to the artifact bucket; on-demand does neither
    assert on["EnableManagedSpotTraining"] is True
    assert on["StoppingCondition"]["MaxWaitTimeInSeconds"] >= on["StoppingCondition"]["MaxRuntimeInSeconds"]
    assert "${ArtifactBucket}" in json.dumps(on["CheckpointConfig"]["S3Uri"])
    assert off["EnableManagedSpotTraining"] is False
    assert "CheckpointConfig" not in off
    assert "MaxWaitTimeInSeconds" not in off["StoppingCondition"]


def test_pipeline_scale_reaches_the_definition(template, tmp_path):
    # GIVEN the dev config (one instance each) and pipeline.scale with 2 processing + 4 training instances
    one = _steps(_definition(template))
    scale = {"processingInstances": 2, "trainingInstances": 4, "chunkRows": 20000, "sampleRows": 3000}
    many = _steps(_definition(_pipeline_app(tmp_path, use_spot=True, scale=scale)))
    # THEN the one-instance pipeline has no Profile step; the scaled one profiles, then spreads its jobs
    assert "Profile" not in one
    assert one["Train"]["Arguments"]["ResourceConfig"]["InstanceCount"] == 1
    for step in ("Profile", "Preprocess"):
        assert many[step]["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 2
    assert many["Train"]["Arguments"]["ResourceConfig"]["InstanceCount"] == 4
    arguments = many["Preprocess"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert arguments[-6:] == ["--chunk-rows", "20000", "--sample-rows", "3000", "--shards", "4"]


def test_jobs_start_only_inside_the_project_boundary(template, synthesized):
    # GIVEN the execution role's statements that create jobs
    statements = {s["Sid"]: s for s in _statements(template)}
    allowed = sorted(synthesized.config.env.instances.allowed)
    for sid, action in (
        ("StartProcessingJobs", "CreateProcessingJob"),
        ("StartTrainingJobs", "CreateTrainingJob"),
    ):
        statement = statements[sid]
        assert statement["Action"] == f"sagemaker:{action}"
        condition = statement["Condition"]
        # THEN each names the VPC, the key and the instance allowlist, and refuses requests without them
        assert condition["Null"] == {
            "sagemaker:VpcSubnets": "false",
            "sagemaker:VpcSecurityGroupIds": "false",
            "sagemaker:InstanceTypes": "false",
        }
        assert sorted(condition["ForAllValues:StringEquals"]["sagemaker:InstanceTypes"]) == allowed
        assert len(condition["ForAllValues:StringEquals"]["sagemaker:VpcSubnets"]) == 2
        assert set(condition["StringEquals"]) == {"sagemaker:VolumeKmsKey", "sagemaker:OutputKmsKey"}
        assert condition["Bool"]["sagemaker:InterContainerTrafficEncryption"] == "true"
    # AND training must be isolated; Evaluate (processing) calls the SageMaker API, so processing need not
    assert statements["StartTrainingJobs"]["Condition"]["Bool"]["sagemaker:NetworkIsolation"] == "true"
    assert "sagemaker:NetworkIsolation" not in statements["StartProcessingJobs"]["Condition"]["Bool"]
    # AND no other statement creates jobs
    creators = [
        s
        for s in statements.values()
        if "Create" in json.dumps(s["Action"]) and "Job" in json.dumps(s["Action"])
    ]
    assert len(creators) == 2
