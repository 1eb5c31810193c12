"""Use cases in config (issue 18): the project's own use case is always there, named as before;
each other entry of ``useCases`` is an additional use case with names, data and stages of its own."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from contracts.approved_model import ApprovedModel
from contracts.config import ConfigError, load_config
from ml_code import contract

CONTEXT = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]
PROJECT = CONTEXT["project"]["name"]
FRAUD = {"targetColumn": "is_fraud", "problemType": "binary"}


def _context(use_cases: Any = None, **dev: Any) -> dict[str, Any]:
    context = copy.deepcopy({k: CONTEXT[k] for k in ("env", "project", "environments")})
    context["environments"]["dev"].update(dev)
    if use_cases is not None:
        context["environments"]["dev"]["useCases"] = use_cases
    return context


def test_without_use_cases_the_project_is_its_one_use_case_with_todays_names() -> None:
    config = load_config(_context())
    (primary,) = config.use_cases
    assert (primary.name, primary.prefix, primary.primary) == (PROJECT, config.prefix, True)
    assert (primary.target_column, primary.problem_type) == (
        contract.SAMPLE_TARGET_COLUMN,
        contract.SAMPLE_PROBLEM_TYPE,
    )
    assert primary.stages is None  # its stages are the environment's own


def test_an_additional_use_case_gets_its_prefix_data_schema_and_model_files() -> None:
    config = load_config(_context({"fraud": {**FRAUD, "inputPrefix": "data/fraud/"}}))
    primary, fraud = config.use_cases
    assert primary.primary
    assert not fraud.primary
    assert (fraud.name, fraud.prefix) == ("fraud", f"{config.prefix}-fraud")
    assert (fraud.target_column, fraud.problem_type, fraud.input_prefix) == (
        "is_fraud",
        "binary",
        "data/fraud/",
    )
    assert fraud.stages is not None
    assert [s.model_file for s in fraud.stages] == [
        ".build/release/dev-fraud-staging.json",
        ".build/release/dev-fraud-prod.json",
    ]
    # ... the environment's stage settings otherwise (serverless staging, instance-backed prod)
    assert [s.serverless is not None for s in fraud.stages] == [
        s.serverless is not None for s in config.env.endpoints
    ]


def test_an_entry_named_like_the_project_configures_the_primary() -> None:
    config = load_config(_context({PROJECT: {"targetColumn": "churned", "problemType": "binary"}}))
    (primary,) = config.use_cases
    assert (primary.prefix, primary.target_column) == (config.prefix, "churned")


def test_each_use_case_reads_its_own_approved_models(tmp_path: Path) -> None:
    approved = ApprovedModel(
        model_package_arn="arn:aws:sagemaker:eu-west-1:111122223333:model-package/mlops-demo-dev-fraud-models/1",
        model_package_group="mlops-demo-dev-fraud-models",
        version=1,
        image_uri="141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5",
        model_data_url="s3://bucket/pipeline-runs/e/train/j/output/model.tar.gz",
    )
    approved.write(tmp_path / ".build/release/dev-fraud-prod.json")
    config = load_config(_context({"fraud": FRAUD}), project_root=tmp_path)
    fraud = config.use_cases[1]
    assert fraud.stages is not None
    assert [stage.approved_model for stage in fraud.stages] == [None, approved]  # staging, prod
    # ... and the primary's stages read their own files only
    assert all(stage.approved_model is None for stage in config.env.endpoints)


@pytest.mark.parametrize(
    ("use_cases", "message"),
    [
        ({"Fraud": FRAUD}, "useCases.Fraud': expected a use case name"),
        ({"fraud-detection": FRAUD}, "useCases.fraud-detection': expected a use case name"),
        ({"averyverylongname": FRAUD}, "useCases.averyverylongname': expected a use case name"),
        ({"network": FRAUD}, "useCases.network': 'network' is reserved"),
        ({"fraud": {"targetColumn": "is_fraud"}}, "useCases.fraud.problemType'"),
        ({"fraud": {**FRAUD, "problemType": "ranking"}}, "useCases.fraud.problemType': expected one of"),
        ({"fraud": {**FRAUD, "targetColumn": ""}}, "useCases.fraud.targetColumn'"),
        ({"fraud": {**FRAUD, "inputPrefix": "raw/"}}, "useCases.fraud.inputPrefix'"),
        ({"fraud": {**FRAUD, "colour": "red"}}, "useCases.fraud.colour"),
    ],
)
def test_a_bad_use_case_names_its_key(use_cases: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"context key 'environments.dev.{message}")):
        load_config(_context(use_cases))


def test_additional_use_cases_with_stages_in_other_accounts_are_refused_naming_the_key() -> None:
    endpoints = copy.deepcopy(CONTEXT["environments"]["dev"]["endpoints"])
    endpoints["prod"]["account"] = "333333333333"
    del endpoints["prod"]["shadow"]  # dev's prod shadow-tests, which a stage elsewhere cannot
    context = _context({"fraud": FRAUD}, account="111111111111", region="eu-west-1", endpoints=endpoints)
    with pytest.raises(ConfigError, match=r"useCases\.fraud': additional use cases .* not supported yet"):
        load_config(context)


def test_each_additional_use_case_deploys_through_a_bootstrap_of_its_own() -> None:
    config = load_config(
        _context({"fraud": FRAUD, "churnscoring": {**FRAUD, "bootstrapQualifier": "churn"}, PROJECT: FRAUD})
    )
    # the project's own stacks keep the default synthesizer; fraud's qualifier is its name
    assert {case.name: case.bootstrap_qualifier for case in config.use_cases} == {
        PROJECT: None,
        "churnscoring": "churn",
        "fraud": "fraud",
    }


@pytest.mark.parametrize(
    ("use_cases", "dev", "message"),
    [
        # a name longer than a qualifier (10 characters) must name one
        ({"churnscoring": FRAUD}, {}, "useCases.churnscoring.bootstrapQualifier' is required"),
        ({"fraud": {**FRAUD, "bootstrapQualifier": "fraud-1"}}, {}, "useCases.fraud.bootstrapQualifier'"),
        ({"fraud": {**FRAUD, "bootstrapQualifier": "x" * 11}}, {}, "useCases.fraud.bootstrapQualifier'"),
        # the default qualifier (any case: IAM role names ignore it) and the stage accounts' are taken
        (
            {"fraud": {**FRAUD, "bootstrapQualifier": "HNB659fds"}},
            {},
            "useCases.fraud.bootstrapQualifier': qualifier 'HNB659fds' is already CDK's default",
        ),
        (
            {"fraud": FRAUD},
            {"bootstrapQualifier": "fraud"},
            "useCases.fraud.bootstrapQualifier': qualifier 'fraud' is already "
            "'environments.dev.bootstrapQualifier'",
        ),
        # two use cases, one qualifier (fraud's, its name by default, comes first by name)
        (
            {"fraud": FRAUD, "payments": {**FRAUD, "bootstrapQualifier": "fraud"}},
            {},
            "useCases.payments.bootstrapQualifier': qualifier 'fraud' is already that of use case 'fraud'",
        ),
        # the project's own use case deploys through the default bootstrap
        ({PROJECT: {**FRAUD, "bootstrapQualifier": "own"}}, {}, f"useCases.{PROJECT}.bootstrapQualifier'"),
    ],
)
def test_a_missing_or_taken_bootstrap_qualifier_names_its_key(
    use_cases: dict[str, Any], dev: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"context key 'environments.dev.{message}")):
        load_config(_context(use_cases, **dev))


# ---------------------------------------------------------------------- overrides of the environment


def test_a_use_case_overrides_only_the_keys_it_names() -> None:
    fraud_entry = {
        **FRAUD,
        "pipeline": {"qualityThreshold": 0.8},
        "monitoring": {"notificationEmails": ["fraud-team@example.com"]},
        "instances": {"training": "ml.m5.large"},
    }
    config = load_config(_context({"fraud": fraud_entry}))
    primary, fraud = config.use_cases
    assert primary.sections is None  # the project's own settings are the environment's
    assert fraud.sections is not None
    env = config.env
    assert fraud.sections.pipeline.quality_threshold == 0.8
    assert fraud.sections.pipeline.champion_margin == env.pipeline.champion_margin
    assert fraud.sections.monitoring.notification_emails == ("fraud-team@example.com",)
    assert fraud.sections.monitoring.drift_threshold == env.monitoring.drift_threshold
    assert fraud.sections.instances.training == "ml.m5.large"
    assert fraud.sections.instances.processing == env.instances.processing
    # ... and the environment's own sections are untouched
    assert (env.pipeline.quality_threshold, env.instances.training) == (None, "ml.m5.xlarge")


def test_without_overrides_a_use_case_has_the_environments_sections() -> None:
    config = load_config(_context({"fraud": FRAUD}))
    fraud = config.use_cases[1]
    assert fraud.sections is not None
    assert (fraud.sections.pipeline, fraud.sections.instances, fraud.sections.monitoring) == (
        config.env.pipeline,
        config.env.instances,
        config.env.monitoring,
    )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"pipeline": {"qualityThreshold": 2}}, "useCases.fraud.pipeline.qualityThreshold'"),
        ({"pipeline": {"qualityTreshold": 0.8}}, "useCases.fraud.pipeline.qualityTreshold"),
        ({"instances": {"training": "ml.p4d.24xlarge"}}, "useCases.fraud.instances.training'"),
        (
            {"monitoring": {"budget": {"monthlyLimitUsd": 10}}},
            "useCases.fraud.monitoring.budget': the budget",
        ),
    ],
)
def test_a_bad_override_names_its_key_under_the_use_case(override: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"context key 'environments.dev.{message}")):
        load_config(_context({"fraud": {**FRAUD, **override}}))
