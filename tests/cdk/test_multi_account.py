"""Multi-account, the tooling side: what the data stack shares with stage accounts, and nothing more.

The tests fail if a grant widens: another principal, another action, another object, a missing
condition. A single-account environment gets none of it (the default templates are pinned
elsewhere: tests/cdk/test_determinism.py and the stack tests).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from platform_synth import SynthesizedPlatform, cfn_lint, resources, synth_platform

TOOLING, STAGING, PROD = "111111111111", "222222222222", "333333333333"
ORG = "o-abcdefghij"
STAGE_ACCOUNTS = {STAGING, PROD}


def _multi_account(org: str | None = None, *, qualifier: str | None = None) -> Any:
    def edit(context: dict[str, Any]) -> None:
        env = context["environments"][context["env"]]
        env.update({"account": TOOLING, "region": "eu-west-1"})
        if org:
            env["organizationId"] = org
        if qualifier:
            env["bootstrapQualifier"] = qualifier
        endpoints = env.setdefault("endpoints", {})
        endpoints.setdefault("staging", {})["account"] = STAGING
        endpoints.setdefault("prod", {})["account"] = PROD
        endpoints["prod"].pop("shadow", None)  # dev's shadow test is for a tooling-account prod only

    return edit


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedPlatform:
    # synth_platform raises on any unacknowledged cdk-nag or own-rule finding
    return synth_platform(tmp_path_factory.mktemp("multi"), edit=_multi_account(ORG), approved=False)


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return list(document["Statement"])


def _principal_accounts(statement: dict[str, Any]) -> set[str]:
    """Accounts named by an AWS principal (root ARNs as CDK renders AccountPrincipal)."""
    aws = statement.get("Principal", {}).get("AWS", [])
    found = set()
    for principal in aws if isinstance(aws, list) else [aws]:
        text = json.dumps(principal)
        found |= {account for account in (TOOLING, STAGING, PROD) if account in text}
    return found


def _cross_account(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in statements if _principal_accounts(s) & STAGE_ACCOUNTS]


def test_the_registry_lets_stage_accounts_read_versions_and_nothing_else(multi: SynthesizedPlatform) -> None:
    (group,) = resources(multi.raw["data"], "AWS::SageMaker::ModelPackageGroup").values()
    (statement,) = _statements(group["Properties"]["ModelPackageGroupPolicy"])
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Principal"]["AWS"]) == [
        f"arn:aws:iam::{STAGING}:root",
        f"arn:aws:iam::{PROD}:root",
    ]
    assert sorted(statement["Action"]) == [
        "sagemaker:DescribeModelPackage",
        "sagemaker:DescribeModelPackageGroup",
        "sagemaker:ListModelPackages",
    ]
    assert statement["Resource"] == [
        f"arn:aws:sagemaker:eu-west-1:{TOOLING}:model-package-group/mlops-demo-dev-models",
        f"arn:aws:sagemaker:eu-west-1:{TOOLING}:model-package/mlops-demo-dev-models/*",
    ]
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG}}


def _roles() -> list[str]:
    return [
        f"arn:aws:iam::{STAGING}:role/mlops-demo-dev-staging-model",
        f"arn:aws:iam::{PROD}:role/mlops-demo-dev-prod-model",
    ]


def _artifact_bucket_statements(multi: SynthesizedPlatform) -> list[dict[str, Any]]:
    policies = resources(multi.raw["data"], "AWS::S3::BucketPolicy").values()
    (policy,) = [p for p in policies if "ArtifactBucket" in json.dumps(p["Properties"]["Bucket"])]
    return _statements(policy["Properties"]["PolicyDocument"])


def test_only_the_stage_model_roles_read_only_shipped_model_artifacts(multi: SynthesizedPlatform) -> None:
    statements = _cross_account(_artifact_bucket_statements(multi))
    # one statement per stage's model role, and the drift role's (tests/cdk/test_stage_monitoring.py)
    assert [s["Sid"] for s in statements] == [
        "StageModelRoleProdReadModelArtifacts",
        "StageModelRoleStagingReadModelArtifacts",
        "StageDriftRoleProdReadBaselines",
    ]
    for statement, (stage, account) in zip(statements, [("prod", PROD), ("staging", STAGING)], strict=False):
        assert statement["Effect"] == "Allow"
        assert _principal_accounts(statement) == {account}
        assert statement["Action"] == "s3:GetObject"
        assert json.dumps(statement["Resource"]).endswith('/pipeline-runs/*/train/*"]]}')
        # the role by name, and only objects its stage's deploy build tagged as shipped there
        assert statement["Condition"] == {
            "ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{account}:role/mlops-demo-dev-{stage}-model"},
            "StringEquals": {
                "aws:PrincipalOrgID": ORG,
                f"s3:ExistingObjectTag/mlops:released-{stage}": "true",
            },
        }


def test_only_the_stage_deploy_builds_change_tags_under_the_runs(multi: SynthesizedPlatform) -> None:
    (deny,) = [
        s for s in _artifact_bucket_statements(multi) if s.get("Sid") == "DenyTaggingRunsButShippingBuilds"
    ]
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == {"AWS": "*"}
    assert sorted(deny["Action"]) == [
        "s3:DeleteObjectTagging",
        "s3:DeleteObjectVersionTagging",
        "s3:PutObjectTagging",
        "s3:PutObjectVersionTagging",
    ]
    assert json.dumps(deny["Resource"]).endswith('/pipeline-runs/*"]]}')
    assert deny["Condition"] == {
        "ArnNotEquals": {
            "aws:PrincipalArn": [
                f"arn:aws:iam::{TOOLING}:role/mlops-demo-dev-{stage}-deploy" for stage in ("prod", "staging")
            ]
        }
    }


def test_the_data_key_decrypts_for_the_stage_model_roles_only_through_s3(multi: SynthesizedPlatform) -> None:
    (key,) = resources(multi.raw["data"], "AWS::KMS::Key").values()
    statements = _cross_account(_statements(key["Properties"]["KeyPolicy"]))
    assert [s["Sid"] for s in statements] == [
        "StageModelRolesDecryptModelArtifacts",
        "StageDriftRolesDecryptBaselines",
    ]
    statement = statements[0]
    assert statement["Effect"] == "Allow"
    assert _principal_accounts(statement) == STAGE_ACCOUNTS
    assert statement["Action"] == "kms:Decrypt"
    assert statement["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": _roles()},
        "StringEquals": {"aws:PrincipalOrgID": ORG, "kms:ViaService": "s3.eu-west-1.amazonaws.com"},
    }


#: The tooling account's stacks but the training pipeline (not in ``raw``) and the delivery stack,
#: whose deploy roles reach into the stage accounts (tests/cdk/test_multi_account_delivery.py).
TOOLING_PARTS = ("data", "network", "studio", "monitoring")


def test_no_other_statement_anywhere_names_a_stage_account(multi: SynthesizedPlatform) -> None:
    # the grants above (and the drift roles', tests/cdk/test_stage_monitoring.py) are the tooling
    # account's whole cross-account surface outside delivery
    assert {part for part in multi.raw if not part.startswith(("staging-", "prod-"))} == {
        *TOOLING_PARTS,
        "delivery",
    }
    mentions = {
        part: [account for account in sorted(STAGE_ACCOUNTS) if account in json.dumps(multi.raw[part])]
        for part in TOOLING_PARTS
    }
    # monitoring: the stage-events bus, which only the stage accounts may send their alarms to
    # (tests/cdk/test_stage_events.py)
    assert {part: found for part, found in mentions.items() if found} == {
        "data": sorted(STAGE_ACCOUNTS),
        "monitoring": sorted(STAGE_ACCOUNTS),
    }
    text = json.dumps(multi.raw["data"])
    # each: the group's principal, then the bucket's and the key's principal and model role name;
    # prod (drift-checked in its account) also the bucket's and the key's principal and drift role
    assert text.count(STAGING) == 5
    assert text.count(PROD) == 9


def test_without_an_organization_there_is_no_org_condition(tmp_path: Path) -> None:
    synthesized = synth_platform(tmp_path, edit=_multi_account(), approved=False)
    (group,) = resources(synthesized.raw["data"], "AWS::SageMaker::ModelPackageGroup").values()
    (statement,) = _statements(group["Properties"]["ModelPackageGroupPolicy"])
    assert "Condition" not in statement


def test_a_single_account_environment_shares_nothing(tmp_path: Path) -> None:
    def pin(context: dict[str, Any]) -> None:
        context["environments"][context["env"]].update({"account": TOOLING, "region": "eu-west-1"})

    synthesized = synth_platform(tmp_path, edit=pin, approved=False)
    (group,) = resources(synthesized.raw["data"], "AWS::SageMaker::ModelPackageGroup").values()
    assert "ModelPackageGroupPolicy" not in group["Properties"]
    assert 'PrincipalArn": [' not in json.dumps(synthesized.raw["data"])


def test_the_multi_account_templates_are_cfn_lint_clean(multi: SynthesizedPlatform) -> None:
    templates = sorted(str(path) for path in multi.outdir.glob("*.template.json"))
    assert any(path.endswith("-data.template.json") for path in templates)
    assert cfn_lint(templates) == (0, "")
