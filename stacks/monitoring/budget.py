"""The environment's spend guardrail: a monthly AWS Budgets cost budget notifying the alert topic.

It counts what carries *both* cost-allocation tags the app puts on every stack (``Project`` =
the project, ``Environment`` = this environment; :attr:`contracts.config.AppConfig.all_tags`), so
two environments in one account, or two projects with a ``dev``, each have their own. The filter
is Budgets' ``FilterExpression`` (an ``And`` of two tag expressions): the older ``CostFilters``
``TagKeyValue`` list ORs its values, so it cannot say "this project's dev". A budget with a
``FilterExpression`` must name its ``Metrics`` (without, its history fails to load); unblended
cost is what the bill shows.

Tags count only once they are *activated* as cost-allocation tags in Billing (README says how);
until then the budget sees no spend and stays silent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

from contracts.config import BudgetConfig
from stacks.monitoring.alerts import Alerts

#: The tags (applied to every stack by ``stacks.application``) that identify an environment of a project.
COST_TAG_KEYS: Final = ("Project", "Environment")


@dataclass(frozen=True, kw_only=True)
class SpendBudgetProps:
    """The budget's name, limit and thresholds, the tags it counts, and where it notifies."""

    name: str
    config: BudgetConfig
    #: Tag key -> value; the budget counts costs carrying all of them.
    cost_tags: Mapping[str, str]
    topic: sns.ITopic
    #: What must exist first: the topic policy letting Budgets publish (Budgets checks it).
    publish_permission: IConstruct


class SpendBudget(Construct):
    """``AWS::Budgets::Budget`` (``budget``): monthly COST, tag-filtered, notifications to SNS."""

    def __init__(self, scope: Construct, construct_id: str, *, props: SpendBudgetProps) -> None:
        super().__init__(scope, construct_id)
        config = props.config
        notifications = [("ACTUAL", percent) for percent in config.alert_at_percent]
        if config.forecast_at_percent is not None:
            notifications.append(("FORECASTED", config.forecast_at_percent))
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=props.name,
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=config.monthly_limit_usd, unit="USD"),
                metrics=["UnblendedCost"],
                filter_expression=budgets.CfnBudget.ExpressionProperty(
                    and_=[
                        budgets.CfnBudget.ExpressionProperty(
                            tags=budgets.CfnBudget.TagValuesProperty(
                                key=key, values=[value], match_options=["EQUALS"]
                            )
                        )
                        for key, value in sorted(props.cost_tags.items())
                    ]
                ),
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        notification_type=kind,
                        comparison_operator="GREATER_THAN",
                        threshold=percent,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=[
                        budgets.CfnBudget.SubscriberProperty(
                            subscription_type="SNS", address=props.topic.topic_arn
                        )
                    ],
                )
                for kind, percent in notifications
            ],
        )
        self.budget.node.add_dependency(props.publish_permission)


def spend_budget(
    scope: Construct, config: BudgetConfig, *, name: str, tags: Mapping[str, str], alerts: Alerts
) -> SpendBudget:
    """``SpendBudget`` in ``scope``: counts the :data:`COST_TAG_KEYS` of ``tags`` (the stacks' tags),
    notifies the ``alerts`` topic once its policy lets Budgets publish."""
    return SpendBudget(
        scope,
        "SpendBudget",
        props=SpendBudgetProps(
            name=name,
            config=config,
            cost_tags={key: tags[key] for key in COST_TAG_KEYS},
            topic=alerts.topic,
            publish_permission=alerts.publish_permission,
        ),
    )
