"""Monitoring alerts and the persistent-drift recheck, as synthesized (session fixture)."""

from __future__ import annotations

import json
from typing import Any

from platform_synth import SynthesizedPlatform, resources


def _rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Event rules by logical ID prefix (CDK appends a hash)."""
    return {
        k.rstrip("0123456789ABCDEF"): v["Properties"]
        for k, v in resources(template, "AWS::Events::Rule").items()
    }


def _rule(template: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [p for k, p in _rules(template).items() if name in k]
    return found


def _topic_id(template: dict[str, Any]) -> str:
    (topic_id,) = resources(template, "AWS::SNS::Topic")
    return topic_id


def test_failed_runs_of_both_pipelines_and_of_delivery_notify_the_topic(
    synthesized: SynthesizedPlatform,
) -> None:
    template = synthesized.raw["monitoring"]
    topic = {"Ref": _topic_id(template)}
    failed = _rule(template, "TrainingFailed")
    arns = json.dumps(failed["EventPattern"]["detail"]["pipelineArn"])
    assert "pipeline/mlops-demo-dev-training" in arns
    assert "pipeline/mlops-demo-dev-drift-check" in arns
    assert failed["EventPattern"]["detail"]["currentPipelineExecutionStatus"] == ["Failed"]
    delivery = _rule(template, "DeliveryFailed")
    assert delivery["EventPattern"] == {
        "source": ["aws.codepipeline"],
        "detail-type": ["CodePipeline Pipeline Execution State Change"],
        "detail": {"pipeline": ["mlops-demo-dev-build", "mlops-demo-dev-deploy"], "state": ["FAILED"]},
    }
    approval = _rule(template, "AwaitingApproval")
    assert approval["EventPattern"]["detail"] == {
        "ModelPackageGroupName": ["mlops-demo-dev-models"],
        "ModelApprovalStatus": ["PendingManualApproval"],
    }
    for rule in (failed, delivery, approval):
        assert [t["Arn"] for t in rule["Targets"]] == [topic]
    # the delivery stack names its pipelines as the rule expects
    names = {
        p["Properties"]["Name"]
        for p in resources(synthesized.raw["delivery"], "AWS::CodePipeline::Pipeline").values()
    }
    assert names == {"mlops-demo-dev-build", "mlops-demo-dev-deploy"}


def _arn_pattern(value: Any) -> str:
    """A ``Fn::Join`` ARN with its pseudo-parameters spelled out (``${AWS::Region}``)."""
    if isinstance(value, str):
        return value
    parts = value["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else "${" + p["Ref"] + "}" for p in parts)


#: Each service may publish only for its own resources in this account (aws:SourceArn).
SOURCES = {
    "events.amazonaws.com": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/*",
    "cloudwatch.amazonaws.com": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*",
    "budgets.amazonaws.com": "arn:${AWS::Partition}:budgets::${AWS::AccountId}:*",
}


def test_services_publish_to_the_topic_only_for_their_own_resources_in_this_account(
    synthesized: SynthesizedPlatform,
) -> None:
    # GIVEN the alert topic's policy
    template = synthesized.raw["monitoring"]
    (policy,) = [p["Properties"] for p in resources(template, "AWS::SNS::TopicPolicy").values()]
    allows = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    # THEN one statement per service (no unconditioned one, as CDK's SnsTopic target adds) ...
    services = [s["Principal"]["Service"] for s in allows]
    assert sorted(services) == sorted(SOURCES)
    for statement in allows:
        service = statement["Principal"]["Service"]
        assert statement["Action"] == "sns:Publish"
        # ... each bound to this account and to its own kind of source (confused deputy)
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
        (source,) = statement["Condition"]["ArnLike"].items()
        assert (source[0], _arn_pattern(source[1])) == ("aws:SourceArn", SOURCES[service])


def test_the_alert_key_encrypts_only_for_its_topic(synthesized: SynthesizedPlatform) -> None:
    template = synthesized.raw["monitoring"]
    (topic,) = [r["Properties"] for r in resources(template, "AWS::SNS::Topic").values()]
    assert topic["TopicName"] == "mlops-demo-dev-alerts"
    (key,) = [r["Properties"] for r in resources(template, "AWS::KMS::Key").values()]
    services = [s for s in key["KeyPolicy"]["Statement"] if "Service" in s["Principal"]]
    by_service = {s["Principal"]["Service"]: s for s in services}
    assert len(by_service) == len(services)  # one statement each: none added unconditioned beside it
    assert set(by_service) == {
        "cloudwatch.amazonaws.com",
        "codepipeline.amazonaws.com",
        "events.amazonaws.com",
        "budgets.amazonaws.com",
    }
    # every service may use the key only for data keys of this topic (SNS's encryption context)
    for statement in services:
        assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
        context = statement["Condition"]["StringEquals"]["kms:EncryptionContext:aws:sns:topicArn"]
        assert _arn_pattern(context).endswith(":${AWS::AccountId}:mlops-demo-dev-alerts")
    # ... and Budgets, as AWS Budgets documents, only on behalf of this account's budgets
    budgets = by_service["budgets.amazonaws.com"]["Condition"]
    assert budgets["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert _arn_pattern(budgets["ArnLike"]["aws:SourceArn"]) == SOURCES["budgets.amazonaws.com"]


def test_persistent_drift_is_rechecked_after_every_drift_check(synthesized: SynthesizedPlatform) -> None:
    template = synthesized.raw["monitoring"]
    recheck = _rule(template, "RecheckDriftAfterCheck")
    detail = recheck["EventPattern"]["detail"]
    assert "pipeline/mlops-demo-dev-drift-check" in json.dumps(detail["pipelineArn"])
    assert detail["currentPipelineExecutionStatus"] == ["Succeeded"]
    (target,) = recheck["Targets"]
    functions = resources(template, "AWS::Lambda::Function")
    trigger_id = next(k for k in functions if k.startswith("RetrainTrigger"))
    assert trigger_id in json.dumps(target["Arn"])
    assert (
        functions[trigger_id]["Properties"]["Environment"]["Variables"]["ALARM_NAMES"]
        == "mlops-demo-dev-prod-drift"
    )
    # ... and the trigger may read exactly that alarm
    (policy,) = [
        p["Properties"]
        for k, p in resources(template, "AWS::IAM::ManagedPolicy").items()
        if k.startswith("RetrainTrigger")
    ]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    # ... reads the finished check's own report (fresh: the alarm lags the datum by a minute)
    report_uri = json.dumps(functions[trigger_id]["Properties"]["Environment"]["Variables"]["REPORT_URI"])
    assert "/drift-checks/{execution_id}/report/drift_metrics.json" in report_uri
    assert statements["ReadDriftReports"]["Action"] == "s3:GetObject"
    assert json.dumps(statements["ReadDriftReports"]["Resource"]).endswith('/drift-checks/*"]]}')
    read = statements["ReadDriftAlarms"]
    assert read["Action"] == "cloudwatch:DescribeAlarms"
    assert json.dumps(read["Resource"]).endswith(':alarm:mlops-demo-dev-prod-drift"]]}')
