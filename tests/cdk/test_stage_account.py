"""Multi-account, the stage-account side: each stage in another account gets its base and network
stacks there, and its endpoint stack goes there too, through that account's CDK bootstrap.

Seen as an attacker: the stage's model role reads exactly the approved model.tar.gz from the
tooling account and decrypts through S3 only; the smoke role is assumable by exactly the stage's
deploy build and may only invoke the stage's endpoint; the stage VPC's S3 gateway admits the
tooling account's training outputs and baselines and nothing else of another account. (The stage's
drift check there: tests/cdk/test_stage_monitoring.py.) Each test pins a grant
whole (principals, actions, resources, conditions), so a widened grant fails. (Decided as
requests: tests/security/test_stage_account_attacks.py.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from platform_synth import APPROVED, SynthesizedPlatform, cfn_lint, resources, synth_platform, values_of
from test_multi_account import ORG, PROD, STAGING, TOOLING, _multi_account

PREFIX = "mlops-demo-dev"
REGION = "eu-west-1"
QUALIFIER = "mlq1"
STAGES = {"staging": STAGING, "prod": PROD}
#: The parts of the tooling account as synth_platform keys them (the training pipeline is not kept).
TOOLING_PARTS = {"data", "network", "studio", "monitoring", "delivery"}
#: Each stage's stacks in its account; prod captures traffic, so its drift check runs there too.
STAGE_PARTS = {"staging": ("base", "network"), "prod": ("base", "network", "monitoring")}


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedPlatform:
    # synth_platform raises on any unacknowledged cdk-nag or own-rule finding
    return synth_platform(
        tmp_path_factory.mktemp("staged"), edit=_multi_account(ORG, qualifier=QUALIFIER), approved=True
    )


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedPlatform:
    """Staging in the tooling account, prod elsewhere; no organization, the default qualifier."""

    def edit(context: dict[str, Any]) -> None:
        _multi_account()(context)
        context["environments"][context["env"]]["endpoints"]["staging"]["account"] = TOOLING

    return synth_platform(tmp_path_factory.mktemp("mixed"), edit=edit, approved=True)


def _stacks(synthesized: SynthesizedPlatform) -> dict[str, dict[str, Any]]:
    """The cloud assembly's stack artifacts (what `cdk deploy` reads), by stack name."""
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    return {
        name: artifact
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }


def _one(template: dict[str, Any], resource_type: str, prefix: str = "") -> tuple[str, dict[str, Any]]:
    (found,) = [(k, v) for k, v in resources(template, resource_type).items() if k.startswith(prefix)]
    return found


def _base_output(stage: str, output: str) -> dict[str, Any]:
    return {
        "Fn::GetStackOutput": {"StackName": f"{PREFIX}-{stage}-base", "Region": REGION, "OutputName": output}
    }


# ---------------------------------------------------------------------- where each stack goes


def test_each_stage_in_another_account_has_its_stacks_in_that_account(staged: SynthesizedPlatform) -> None:
    environments = {name: artifact["environment"] for name, artifact in _stacks(staged).items()}
    expected = {f"{PREFIX}-{part}": f"aws://{TOOLING}/{REGION}" for part in (*TOOLING_PARTS, "pipeline")}
    for stage, account in STAGES.items():
        for name in (*(f"{stage}-{part}" for part in STAGE_PARTS[stage]), f"endpoint-{stage}"):
            expected[f"{PREFIX}-{name}"] = f"aws://{account}/{REGION}"
    assert environments == expected
    # the endpoint stack keeps its name: the deploy build deploys it alone, as before
    assert staged.platform.endpoints["prod"].stack_name == f"{PREFIX}-endpoint-prod"
    assert (staged.platform.endpoints["prod"].account, staged.platform.endpoints["prod"].region) == (
        PROD,
        REGION,
    )


@pytest.mark.parametrize(("stage", "account"), sorted(STAGES.items()))
def test_stage_stacks_deploy_through_the_stage_accounts_bootstrap_with_its_qualifier(
    staged: SynthesizedPlatform, stage: str, account: str
) -> None:
    stacks = _stacks(staged)
    for name in (*(f"{stage}-{part}" for part in STAGE_PARTS[stage]), f"endpoint-{stage}"):
        properties = stacks[f"{PREFIX}-{name}"]["properties"]
        assert properties["assumeRoleArn"] == (
            f"arn:${{AWS::Partition}}:iam::{account}:role/cdk-{QUALIFIER}-deploy-role-{account}-{REGION}"
        )
        assert properties["cloudFormationExecutionRoleArn"] == (
            f"arn:${{AWS::Partition}}:iam::{account}:role/cdk-{QUALIFIER}-cfn-exec-role-{account}-{REGION}"
        )
        assert properties["bootstrapStackVersionSsmParameter"] == f"/cdk-bootstrap/{QUALIFIER}/version"
        parameter = staged.raw[name]["Parameters"]["BootstrapVersion"]
        assert parameter["Default"] == f"/cdk-bootstrap/{QUALIFIER}/version"
    # the tooling account is bootstrapped as today
    tooling = stacks[f"{PREFIX}-data"]["properties"]
    assert tooling["bootstrapStackVersionSsmParameter"] == "/cdk-bootstrap/hnb659fds/version"
    assert (
        staged.raw["data"]["Parameters"]["BootstrapVersion"]["Default"] == "/cdk-bootstrap/hnb659fds/version"
    )


def test_the_base_and_network_exist_before_any_version_is_approved(tmp_path: Path) -> None:
    # they are deployed once, by hand, before the deploy pipeline ships the first version
    synthesized = synth_platform(tmp_path, edit=_multi_account(), approved=False)
    assert {part for part in synthesized.raw if part not in TOOLING_PARTS} == {
        "staging-base",
        "staging-network",
        "prod-base",
        "prod-network",
        "prod-monitoring",
    }


def test_an_existing_vpc_stops_synth_naming_the_key(tmp_path: Path) -> None:
    # an existing VPC is the tooling account's: the stage account would be handed its IDs
    def edit(context: dict[str, Any]) -> None:
        _multi_account()(context)
        context["environments"][context["env"]]["network"] = {
            "mode": "existing",
            "vpcId": "vpc-0123456789abcdef0",
            "cidr": "10.9.0.0/16",
            "subnetIds": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
            "availabilityZones": ["eu-west-1a", "eu-west-1b"],
        }

    with pytest.raises(
        ValueError, match=r"environments\.dev\.network\.mode: 'existing' .*endpoints\.staging"
    ):
        synth_platform(tmp_path, edit=edit, approved=False)


# ---------------------------------------------------------------------- the model role


def _model_role(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The model execution role's properties and its policy's statements by Sid."""
    role_id, role = _one(template, "AWS::IAM::Role", "HostedModel")
    _, policy = _one(template, "AWS::IAM::ManagedPolicy", "HostedModel")
    assert policy["Properties"]["Roles"] == [{"Ref": role_id}]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    assert len(by_sid) == len(statements)
    return role["Properties"], by_sid


def _model_reads(stage: str) -> dict[str, dict[str, Any]]:
    return {
        "ReadThisModelVersion": {
            "Action": "s3:GetObject",
            "Condition": {"StringEquals": {"s3:ResourceAccount": TOOLING}},
            "Effect": "Allow",
            "Resource": "arn:aws:s3:::artifacts-bucket/pipeline-runs/exec-1/train/output/model.tar.gz",
            "Sid": "ReadThisModelVersion",
        },
        "DecryptModelThroughS3": {
            "Action": "kms:Decrypt",
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": f"arn:aws:kms:{REGION}:{TOOLING}:key/*",
            "Sid": "DecryptModelThroughS3",
        },
        "DescribeThePackage": {
            "Action": "sagemaker:DescribeModelPackage",
            "Effect": "Allow",
            "Resource": APPROVED.model_package_arn,
            "Sid": "DescribeThePackage",
        },
    }


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_the_model_role_reads_exactly_the_approved_model_from_the_tooling_account(
    staged: SynthesizedPlatform, stage: str
) -> None:
    role, statements = _model_role(staged.raw[f"endpoint-{stage}"])
    # the name the tooling bucket and key policies admit through aws:PrincipalArn
    assert role["RoleName"] == f"{PREFIX}-{stage}-model"
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}}
    ]
    assert {sid: statements[sid] for sid in _model_reads(stage)} == _model_reads(stage)
    # nothing else reaches S3 or KMS but the stage's own capture (prod) ...
    touching = {
        sid
        for sid, s in statements.items()
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        if action.startswith(("s3:", "kms:"))
    }
    captures = {"UseDataKey", "WriteCapturedData"} if stage == "prod" else set()
    assert touching == {"ReadThisModelVersion", "DecryptModelThroughS3", *captures}
    # ... and no statement names the tooling account but the model file's and the key's
    assert [sid for sid, s in statements.items() if TOOLING in json.dumps(s)] == [
        "ReadThisModelVersion",
        "DecryptModelThroughS3",
    ]


def test_the_model_role_uses_the_stage_key_only_to_capture_into_the_stage_bucket(
    staged: SynthesizedPlatform,
) -> None:
    _, prod = _model_role(staged.raw["endpoint-prod"])
    assert prod["UseDataKey"] == {
        "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
        "Effect": "Allow",
        "Resource": _base_output("prod", "PublishOutputFnGetAttStageKeyArn68A2C9AE"),
        "Sid": "UseDataKey",
    }
    assert prod["WriteCapturedData"] == {
        "Action": "s3:PutObject",
        "Effect": "Allow",
        "Resource": {
            "Fn::Join": [
                "",
                [
                    _base_output("prod", "PublishOutputFnGetAttCaptureBucketArn1B507812"),
                    f"/data-capture/{PREFIX}-prod/*",
                ],
            ]
        },
        "Sid": "WriteCapturedData",
    }
    _, staging = _model_role(staged.raw["endpoint-staging"])  # serverless: captures nothing
    assert "UseDataKey" not in staging
    assert "WriteCapturedData" not in staging


def test_the_endpoint_uses_the_stage_accounts_key_bucket_and_network_and_forwards_its_alarms(
    staged: SynthesizedPlatform,
) -> None:
    template = staged.raw["endpoint-prod"]
    referenced = {ref["StackName"] for ref in values_of(template, "Fn::GetStackOutput")}
    # only stacks of the same account: CloudFormation cannot read outputs across accounts
    assert referenced == {f"{PREFIX}-prod-base", f"{PREFIX}-prod-network"}
    _, config = _one(template, "AWS::SageMaker::EndpointConfig")
    key = _base_output("prod", "PublishOutputFnGetAttStageKeyArn68A2C9AE")
    assert config["Properties"]["KmsKeyId"] == key
    capture = config["Properties"]["DataCaptureConfig"]
    assert capture["KmsKeyId"] == key
    assert capture["DestinationS3Uri"] == {
        "Fn::Join": [
            "",
            ["s3://", _base_output("prod", "PublishOutputRefCaptureBucket9F69268F"), "/data-capture"],
        ]
    }
    # its alarms email no one from here: each is named <endpoint>-…, which the stage's forwarding rule
    # sends to the tooling account's bus, whose rule tells the team's topic (one email, not two)
    alarms = [a["Properties"] for a in resources(template, "AWS::CloudWatch::Alarm").values()]
    assert len(alarms) == 4  # 5xx, latency, idle, the drift schedule's dead letters
    assert not [a["AlarmName"] for a in alarms if "AlarmActions" in a or "OKActions" in a]
    assert all(a["AlarmName"].startswith(f"{PREFIX}-prod-") for a in alarms)
    # the drift schedule is the endpoint stack's, as in one account (tests/cdk/test_stage_monitoring.py)
    assert len(resources(template, "AWS::Scheduler::Schedule")) == 1


# ---------------------------------------------------------------------- the smoke role


@pytest.mark.parametrize(("stage", "account"), sorted(STAGES.items()))
def test_the_smoke_role_trusts_only_the_stages_deploy_build(
    staged: SynthesizedPlatform, stage: str, account: str
) -> None:
    base = staged.raw[f"{stage}-base"]
    role = base["Resources"]["SmokeRole"]  # pinned: a named role cannot be replaced
    assert role["Type"] == "AWS::IAM::Role"
    assert role["Properties"]["RoleName"] == f"{PREFIX}-{stage}-smoke"
    assert role["Properties"]["AssumeRolePolicyDocument"] == {
        "Statement": [
            {
                "Action": "sts:AssumeRole",
                "Condition": {
                    "ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{TOOLING}:role/{PREFIX}-{stage}-deploy"},
                    "StringEquals": {"aws:PrincipalOrgID": ORG},
                },
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{TOOLING}:root"},
            }
        ],
        "Version": "2012-10-17",
    }
    assert "Policies" not in role["Properties"]
    assert "ManagedPolicyArns" not in role["Properties"]


@pytest.mark.parametrize(("stage", "account"), sorted(STAGES.items()))
def test_the_smoke_role_may_only_invoke_its_stages_endpoint(
    staged: SynthesizedPlatform, stage: str, account: str
) -> None:
    base = staged.raw[f"{stage}-base"]
    (policy,) = [
        p
        for p in resources(base, "AWS::IAM::ManagedPolicy").values()
        if {"Ref": "SmokeRole"} in p["Properties"]["Roles"]
    ]
    assert policy["Properties"]["Roles"] == [{"Ref": "SmokeRole"}]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": "sagemaker:InvokeEndpoint",
            "Effect": "Allow",
            "Resource": f"arn:aws:sagemaker:{REGION}:{account}:endpoint/{PREFIX}-{stage}",
            "Sid": "InvokeTheStageEndpoint",
        }
    ]
    assert not resources(base, "AWS::IAM::Policy")  # no inline policy adds to it
    # the other role sends the stage's alarms to the tooling account (tests/cdk/test_stage_events.py)
    assert [r for r in resources(base, "AWS::IAM::Role") if not r.startswith("AlarmForwarding")] == [
        "SmokeRole"
    ]


def test_without_an_organization_the_smoke_trust_has_no_org_condition(mixed: SynthesizedPlatform) -> None:
    trust = mixed.raw["prod-base"]["Resources"]["SmokeRole"]["Properties"]["AssumeRolePolicyDocument"]
    (statement,) = trust["Statement"]
    assert statement["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{TOOLING}:role/{PREFIX}-prod-deploy"}
    }


def test_without_an_organization_the_drift_and_bus_grants_have_no_org_condition(
    mixed: SynthesizedPlatform,
) -> None:
    # GIVEN prod in another account, no organization: its drift role's grants and the bus policy
    data = json.dumps(mixed.raw["data"])
    assert "StageDriftRoleProdReadBaselines" in data
    assert "aws:PrincipalOrgID" not in data
    (policy,) = resources(mixed.raw["monitoring"], "AWS::Events::EventBusPolicy").values()
    statement = policy["Properties"]["Statement"]
    assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{PROD}:root"]}
    assert "aws:PrincipalOrgID" not in statement["Condition"]["StringEquals"]


# ---------------------------------------------------------------------- the stage network


def _s3_gateway(template: dict[str, Any]) -> list[dict[str, Any]]:
    (endpoint,) = [
        r["Properties"]
        for r in resources(template, "AWS::EC2::VPCEndpoint").values()
        if r["Properties"].get("VpcEndpointType") in (None, "Gateway")
    ]
    statements: list[dict[str, Any]] = endpoint["PolicyDocument"]["Statement"]
    return statements


def _tooling_outputs() -> list[dict[str, Any]]:
    """Training outputs (model.tar.gz) and baselines, in any bucket."""
    return [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":s3:::*/pipeline-runs/*/{folder}/*"]]}
        for folder in ("train", "preprocess/baseline")
    ]


def _foreign(accounts: list[Any]) -> dict[str, Any]:
    return {"StringNotEquals": {"aws:ResourceAccount": accounts}, "Null": {"aws:ResourceAccount": "false"}}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_the_stage_s3_gateway_admits_only_the_tooling_accounts_models_and_baselines(
    staged: SynthesizedPlatform, stage: str
) -> None:
    statements = _s3_gateway(staged.raw[f"{stage}-network"])
    tooling = _s3_gateway(staged.raw["network"])
    # GIVEN the tooling network's policy (allow, ECR layers, the two foreign-resource denies)
    assert [s["Sid"] for s in tooling] == [
        "OnlyThisAccountsPrincipals",
        "EcrImageLayers",
        "OnlyThisAccountsResources",
        "OnlyThisAccountsObjectsAndEcrLayers",
    ]
    # THEN the stage's is the same but for the objects read: models and baselines are carved out ...
    assert statements[:3] == tooling[:3]
    this_account = [{"Ref": "AWS::AccountId"}]
    layers = tooling[3]["NotResource"]
    assert statements[3:] == [
        {
            "Action": "s3:GetObject",
            "Condition": _foreign(this_account),
            "Effect": "Deny",
            "NotResource": [layers, *_tooling_outputs()],
            "Principal": {"AWS": "*"},
            "Sid": "OnlyThisAccountsObjectsEcrLayersAndToolingOutputs",
        },
        # ... and readable in the tooling account only
        {
            "Action": "s3:GetObject",
            "Condition": _foreign([*this_account, TOOLING]),
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Resource": sorted(_tooling_outputs(), key=json.dumps),  # CDK sorts a Resource list
            "Sid": "OnlyToolingModelsAndBaselines",
        },
    ]


# ---------------------------------------------------------------------- the stage base


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_the_stage_base_keeps_its_stateful_resources_under_pinned_ids(
    staged: SynthesizedPlatform, stage: str
) -> None:
    found = staged.raw[f"{stage}-base"]["Resources"]
    kinds = {
        "StageKey": "AWS::KMS::Key",
        "AccessLogBucket": "AWS::S3::Bucket",
        "CaptureBucket": "AWS::S3::Bucket",
        "AlertKey": "AWS::KMS::Key",
    }
    for logical_id, kind in kinds.items():
        assert found[logical_id]["Type"] == kind
        assert (found[logical_id]["DeletionPolicy"], found[logical_id]["UpdateReplacePolicy"]) == (
            "Retain",
            "Retain",
        )
    assert found["AlertTopic"]["Type"] == "AWS::SNS::Topic"
    assert found["StageKey"]["Properties"]["EnableKeyRotation"] is True
    (alias,) = [r for r in found.values() if r["Type"] == "AWS::KMS::Alias"]
    assert alias["Properties"] == {
        "AliasName": f"alias/{PREFIX}-{stage}",
        "TargetKeyId": {"Fn::GetAtt": ["StageKey", "Arn"]},
    }
    capture = found["CaptureBucket"]["Properties"]
    (encryption,) = capture["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {
        "KMSMasterKeyID": {"Fn::GetAtt": ["StageKey", "Arn"]},
        "SSEAlgorithm": "aws:kms",
    }
    assert capture["LoggingConfiguration"] == {"DestinationBucketName": {"Ref": "AccessLogBucket"}}
    days = staged.config.env.retention.capture_days
    assert {
        "ExpirationInDays": days,
        "Id": "Expire-data-capture",
        "Prefix": "data-capture/",
        "Status": "Enabled",
    } in (capture["LifecycleConfiguration"]["Rules"])


def test_the_stage_topic_takes_only_this_accounts_alarms(staged: SynthesizedPlatform) -> None:
    found = staged.raw["prod-base"]["Resources"]
    topic = f"arn:aws:sns:{REGION}:{PROD}:{PREFIX}-prod-alerts"
    assert found["AlertTopic"]["Properties"]["TopicName"] == f"{PREFIX}-prod-alerts"
    assert found["AlertTopic"]["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": ["AlertKey", "Arn"]}
    key_statements = found["AlertKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert key_statements == [
        {
            "Action": "kms:*",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"},
            "Resource": "*",
        },
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Condition": {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic}},
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Resource": "*",
            "Sid": "PublishCloudwatch",
        },
    ]
    (policy,) = resources(staged.raw["prod-base"], "AWS::SNS::TopicPolicy").values()
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allows == [
        {
            "Action": "sns:Publish",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": PROD},
                "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{PROD}:alarm:*"},
            },
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Resource": {"Ref": "AlertTopic"},
            "Sid": "CloudWatchPublish",
        }
    ]


# ---------------------------------------------------------------------- the tooling side of it


def _dashboards_and_drift(template: dict[str, Any]) -> tuple[set[str], set[str]]:
    dashboards = {
        json.dumps(r["Properties"].get("DashboardName"))
        for r in resources(template, "AWS::CloudWatch::Dashboard").values()
    }
    drift = {
        r["Properties"]["AlarmName"]
        for r in resources(template, "AWS::CloudWatch::Alarm").values()
        if str(r["Properties"].get("AlarmName", "")).endswith("-drift")
    }
    return dashboards, drift


def test_tooling_monitoring_leaves_out_the_stages_in_other_accounts(
    staged: SynthesizedPlatform, mixed: SynthesizedPlatform, synthesized: SynthesizedPlatform
) -> None:
    # GIVEN one account: both stages have a dashboard, prod (capturing) a drift alarm
    single_dashboards, single_drift = _dashboards_and_drift(synthesized.raw["monitoring"])
    assert any(f"{PREFIX}-prod" in name for name in single_dashboards)
    assert single_drift == {f"{PREFIX}-prod-drift"}
    # THEN a stage elsewhere has neither; one left in the tooling account keeps its dashboard
    dashboards, drift = _dashboards_and_drift(staged.raw["monitoring"])
    assert (dashboards, drift) == (set(), set())
    mixed_dashboards, mixed_drift = _dashboards_and_drift(mixed.raw["monitoring"])
    assert [name for name in mixed_dashboards if f"{PREFIX}-prod" in name] == []
    assert any(f"{PREFIX}-staging" in name for name in mixed_dashboards)
    assert mixed_drift == set()


def test_a_stage_in_the_tooling_account_stays_as_it_was(
    mixed: SynthesizedPlatform, synthesized: SynthesizedPlatform
) -> None:
    assert {part for part in mixed.raw if part not in TOOLING_PARTS} == {
        "prod-base",
        "prod-network",
        "prod-monitoring",
        "endpoint-prod",
        "endpoint-staging",
    }
    stacks = _stacks(mixed)
    assert stacks[f"{PREFIX}-endpoint-staging"]["environment"] == f"aws://{TOOLING}/{REGION}"
    assert stacks[f"{PREFIX}-endpoint-prod"]["environment"] == f"aws://{PROD}/{REGION}"
    role, statements = _model_role(mixed.raw["endpoint-staging"])
    assert "RoleName" not in role  # CloudFormation's generated name, as in one account
    assert "DecryptModelThroughS3" not in statements
    # the default qualifier: the same bootstrap as the tooling account
    prod = stacks[f"{PREFIX}-endpoint-prod"]["properties"]
    assert prod["bootstrapStackVersionSsmParameter"] == "/cdk-bootstrap/hnb659fds/version"


def test_a_single_account_environment_has_no_stage_account_parts(synthesized: SynthesizedPlatform) -> None:
    assert set(synthesized.raw) == {*TOOLING_PARTS, "endpoint-staging", "endpoint-prod"}
    assert synthesized.platform.stage_accounts == {}
    for stage in STAGES:
        role, statements = _model_role(synthesized.raw[f"endpoint-{stage}"])
        assert "RoleName" not in role
        assert "DecryptModelThroughS3" not in statements
    sids = [s["Sid"] for s in _s3_gateway(synthesized.raw["network"])]
    assert "OnlyToolingModelsAndBaselines" not in sids


def test_the_stage_templates_are_cfn_lint_clean(staged: SynthesizedPlatform) -> None:
    templates = sorted(
        str(staged.outdir / artifact["properties"]["templateFile"])
        for artifact in _stacks(staged).values()
        if not artifact["environment"].startswith(f"aws://{TOOLING}/")
    )
    assert len(templates) == 7
    assert cfn_lint(templates) == (0, "")


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_the_capture_bucket_takes_uploads_under_the_stage_key_only(
    staged: SynthesizedPlatform, stage: str
) -> None:
    # as the tooling artifact bucket does: another key, another SSE type or SSE-C is refused
    policies = resources(staged.raw[f"{stage}-base"], "AWS::S3::BucketPolicy").values()
    (policy,) = [p for p in policies if p["Properties"]["Bucket"] == {"Ref": "CaptureBucket"}]
    denies = {
        s["Sid"]: s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny" and s.get("Sid")
    }
    assert {"OnlyTheDataKey", "OnlySseKms", "NoCustomerProvidedKeys"} <= set(denies)
    key_condition = denies["OnlyTheDataKey"]["Condition"]["StringNotEquals"]
    assert key_condition == {
        "s3:x-amz-server-side-encryption-aws-kms-key-id": {"Fn::GetAtt": ["StageKey", "Arn"]}
    }
    assert {denies[sid]["Action"] for sid in ("OnlyTheDataKey", "OnlySseKms", "NoCustomerProvidedKeys")} == {
        "s3:PutObject"
    }


# ---------------------------------------------------------------------- the stage's dashboard


@pytest.mark.parametrize(("stage", "drift_checked"), [("staging", False), ("prod", True)])
def test_a_stage_account_has_its_endpoints_dashboard(
    staged: SynthesizedPlatform, stage: str, drift_checked: bool
) -> None:
    # the endpoint's metrics (and its drift check's) are in the stage account, so its dashboard is
    (dashboard,) = resources(staged.raw[f"{stage}-base"], "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert f"{PREFIX}-{stage}" in body
    assert "Invocation5XXErrors" in body
    assert ("MLOpsPlatform/Drift" in body) is drift_checked
    # ... without the training pipeline's runs, which are the tooling account's
    assert "ModelBuildingPipeline" not in body
    # ... and the tooling account's dashboards leave the stage out (its metrics are not there)
    assert f"{PREFIX}-{stage}" not in json.dumps(
        [
            d["Properties"]["DashboardName"]
            for d in resources(staged.raw["monitoring"], "AWS::CloudWatch::Dashboard").values()
        ]
    )
