"""`make demo`, the last act: the drift alarm → EventBridge → the retraining trigger → a new run.

1. The drift alarm's rule from the template (metric, threshold) is evaluated against the metrics
   the check published, in the account the alarm lives in (moto stores alarms but never
   evaluates them: :mod:`emulator.alarms`).
2. Its state change is routed through the synthesized EventBridge rules (:mod:`emulator.events`):
   in a single account, the monitoring stack's rule hands it to the retraining trigger; in a
   multi-account environment, the prod account's forwarding rule sends it to the tooling account's
   stage-events bus, whose policy must admit the prod account, and that bus's rules tell the team's
   topic and the trigger.
3. The trigger — the synthesized Lambda's own code, in the tooling account — applies the rate cap
   and de-duplication (the same event delivered again starts nothing), and the training pipeline's
   execution it started is run by the offline runner on the data plus labelled recent traffic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.names import drift_alarm_name, endpoint_name
from demo.training_act import run_and_report
from emulator.alarms import alarm_event, evaluate_alarm
from emulator.cfn import Assembly
from emulator.data_upload import upload_data
from emulator.events import Delivery, route
from emulator.lambdas import LocalFunction, invoke
from emulator.local_aws import LocalAws
from emulator.provision import OfflinePipeline
from emulator.standins import ACCOUNT
from ml_code import contract, sample_data

#: Labelled rows of the drifted population that join the data before the retraining run.
RECENT_ROWS = 2000


@dataclass(frozen=True)
class Alarm:
    """A synthesized alarm, resolved, and the account its stack deploys to."""

    account: str
    props: dict[str, Any]


def alarm_of(assembly: Assembly, alarm_name: str) -> Alarm:
    """The alarm named ``alarm_name`` in the assembly (the drift alarm: tooling monitoring stack, or
    a stage account's monitoring stack)."""
    for stack, logical_id, resource in assembly.resources_of_type("AWS::CloudWatch::Alarm"):
        props = assembly.resolve(stack, resource["Properties"], f"{stack}/{logical_id}")
        if props.get("AlarmName") == alarm_name:
            return Alarm(assembly.target(stack).account or ACCOUNT, dict(props))
    raise SystemExit(f"no alarm named {alarm_name} in the assembly")


def delivery_line(delivery: Delivery) -> str:
    """One line per target the alarm event reached: what, where, through which rule and bus."""
    target = delivery.target.rsplit(":", 1)[-1]
    rule = delivery.rule.rsplit("/", 1)[-1]
    via = "".join(f" via bus {bus.rsplit('/', 1)[-1]}" for bus in delivery.path)
    what = f"\n        {delivery.text}" if delivery.text else ""
    return f"    → {delivery.kind} {target} in account {delivery.account} (rule {rule}{via}){what}"


def trigger_decisions(
    aws: LocalAws,
    assembly: Assembly,
    functions: Mapping[str, LocalFunction],
    event: dict[str, Any],
    log_path: Path,
) -> tuple[list[Delivery], list[dict[str, Any]]]:
    """Route ``event`` from its account; invoke every function it reaches (its own code, in its
    account); returns the deliveries and the functions' answers."""
    deliveries = route(assembly, event, account=str(event["account"]))
    answers = []
    for delivery in deliveries:
        if delivery.kind == "function":
            function = functions[delivery.target]
            answers.append(invoke(function, event, aws.in_account(delivery.account), log_path))
    return deliveries, answers


def retrain_loop(
    aws: LocalAws,
    assembly: Assembly,
    prefix: str,
    work: Path,
    training: OfflinePipeline,
    *,
    functions: Mapping[str, LocalFunction],
    target_column: str = contract.SAMPLE_TARGET_COLUMN,
) -> int:
    """The drift alarm (evaluated on the published metrics) → the retraining trigger → a new run
    (its labelled recent traffic's target named ``target_column``, the pipeline's)."""
    alarm = alarm_of(assembly, drift_alarm_name(endpoint_name(prefix, "prod")))
    state, reason = evaluate_alarm(aws.in_account(alarm.account), alarm.props)
    print(f"  alarm {alarm.props['AlarmName']} (account {alarm.account}): {state} ({reason})")
    if state != "ALARM":
        print("  result:            released; the drift check found no drift, so nothing was retrained")
        return 1
    log = work / "lambda-logs" / "retrain-trigger.log"
    event = alarm_event(alarm.props["AlarmName"], state, reason, account=alarm.account)
    deliveries, decisions = trigger_decisions(aws, assembly, functions, event, log)
    print("  its state change, routed by the synthesized EventBridge rules:")
    print("\n".join(delivery_line(d) for d in deliveries))
    unchecked = sorted({u for d in deliveries for u in d.unchecked})
    if unchecked:
        print(f"    (not evaluated offline: {', '.join(unchecked)})")
    if len(decisions) != 1:
        reached = f"{len(decisions)} retraining trigger(s)"
        print(f"  result:            FAILED: the alarm reached {reached}, not one")
        return 1
    decision = decisions[0]
    print(f"  retraining trigger: {'start' if decision['start'] else 'no start'} — {decision['reason']}")
    _, again = trigger_decisions(aws, assembly, functions, event, log)
    print(f"  the same alarm again: {'start' if again[0]['start'] else 'no start'} — {again[0]['reason']}")
    if not decision["start"] or again[0]["start"]:
        print("  result:            FAILED: the trigger should start exactly one retraining run")
        return 1
    return _retrain(aws, training, work, str(decision["execution_arn"]), target_column)


def _retrain(
    aws: LocalAws, training: OfflinePipeline, work: Path, execution_arn: str, target_column: str
) -> int:
    """Run the execution the trigger started, on the data plus labelled recent traffic."""
    description = aws.client("sagemaker").describe_pipeline_execution(PipelineExecutionArn=execution_arn)
    print(f"  retraining run {execution_arn}")
    print(f"    reason recorded: {description.get('PipelineExecutionDescription', '')}")
    recent = work / "recent.csv"
    recent_rows = sample_data.generate(rows=RECENT_ROWS, seed=8, drift=1.0)
    recent_rows.rename(columns={contract.SAMPLE_TARGET_COLUMN: target_column}).to_csv(recent, index=False)
    uri = upload_data(aws, training, recent)
    print(f"  labelled recent traffic ({RECENT_ROWS} rows) joins the training data: {uri}")
    result = run_and_report(aws, training, {}, work / "runs", execution_arn=execution_arn)
    if result.status != "Succeeded":
        print(f"  result:            FAILED: the retraining run: {result.failure.splitlines()[0]}")
        return 1
    if result.model_package_arn is None:
        print(
            "  result:            released; drift detected; the retraining run's gate held "
            "(nothing registered)"
        )
        return 0
    registered = aws.client("sagemaker").describe_model_package(ModelPackageName=result.model_package_arn)
    print(
        "  result:            released to staging and prod; drift detected on prod traffic; retraining "
        f"registered v{registered['ModelPackageVersion']} ({registered['ModelApprovalStatus']}) for review"
    )
    return 0
