"""The spend guardrail: a monthly AWS Budgets cost budget per environment, notifying the alert topic."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from platform_synth import SynthesizedPlatform, resources

from contracts.config import BudgetConfig
from stacks.monitoring.budget import SpendBudget, SpendBudgetProps


def _notifications(budget: dict[str, Any]) -> list[tuple[str, float]]:
    return [
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"])
        for n in budget["NotificationsWithSubscribers"]
    ]


def test_each_environment_has_a_budget_on_its_own_tags(synthesized: SynthesizedPlatform) -> None:
    # GIVEN dev of cdk.json (no budget settings: the defaults)
    template = synthesized.raw["monitoring"]
    ((budget_id, budget),) = resources(template, "AWS::Budgets::Budget").items()
    data = budget["Properties"]["Budget"]
    # THEN a monthly cost budget of the default limit ...
    assert (data["BudgetName"], data["BudgetType"], data["TimeUnit"]) == (
        "mlops-demo-dev-monthly-cost",
        "COST",
        "MONTHLY",
    )
    assert data["BudgetLimit"] == {"Amount": 500, "Unit": "USD"}
    assert data["Metrics"] == ["UnblendedCost"]  # required with a FilterExpression
    # ... counting only costs tagged as this project AND this environment (the tags on every stack)
    tags = synthesized.config.all_tags
    assert data["FilterExpression"] == {
        "And": [
            {"Tags": {"Key": "Environment", "Values": [tags["Environment"]], "MatchOptions": ["EQUALS"]}},
            {"Tags": {"Key": "Project", "Values": [tags["Project"]], "MatchOptions": ["EQUALS"]}},
        ]
    }
    assert (tags["Project"], tags["Environment"]) == ("mlops-demo", "dev")
    # ... notifying the alert topic at 80 % and 100 % of actual and 100 % of forecast spend
    assert _notifications(budget["Properties"]) == [("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)]
    (topic_id,) = resources(template, "AWS::SNS::Topic")
    for notification in budget["Properties"]["NotificationsWithSubscribers"]:
        assert notification["Notification"]["ComparisonOperator"] == "GREATER_THAN"
        assert notification["Notification"]["ThresholdType"] == "PERCENTAGE"
        assert notification["Subscribers"] == [{"SubscriptionType": "SNS", "Address": {"Ref": topic_id}}]
    # ... created once Budgets may publish there (it checks the topic policy)
    (policy_id,) = resources(template, "AWS::SNS::TopicPolicy")
    assert policy_id in budget["DependsOn"]
    assert budget_id.startswith("SpendBudget")


def test_limit_and_thresholds_come_from_config(tmp_path: Any) -> None:
    # GIVEN a budget with its own limit, one actual threshold and no forecast notification
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path)), "Budgeted")
    topic = sns.Topic(stack, "Topic")
    SpendBudget(
        stack,
        "SpendBudget",
        props=SpendBudgetProps(
            name="acme-prod-monthly-cost",
            config=BudgetConfig(monthly_limit_usd=1250.5, alert_at_percent=(90,), forecast_at_percent=None),
            cost_tags={"Project": "acme", "Environment": "prod"},
            topic=topic,
            publish_permission=topic,
        ),
    )
    (budget,) = Template.from_stack(stack).find_resources("AWS::Budgets::Budget").values()
    # THEN the limit and the one notification are the configured ones
    assert budget["Properties"]["Budget"]["BudgetLimit"] == {"Amount": 1250.5, "Unit": "USD"}
    assert _notifications(budget["Properties"]) == [("ACTUAL", 90)]
    tags = [e["Tags"] for e in budget["Properties"]["Budget"]["FilterExpression"]["And"]]
    assert [(t["Key"], t["Values"]) for t in tags] == [("Environment", ["prod"]), ("Project", ["acme"])]
