"""`make demo`, the drift act: drifted traffic → capture → the scheduled drift check.

1. Drifted customers (the sample generator's drift knob) are sent to the locally served prod
   model, which captures them in SageMaker's data-capture format; the capture is uploaded where
   the prod endpoint config would write it.
2. The drift-check pipeline from the synthesized monitoring stack runs with the parameters the
   prod endpoint stack's schedule passes (endpoint, capture prefix, the version's baseline):
   ``ml_code/drift/monitor.py`` as a local processing job, then the metrics Lambda step against the
   stand-in's CloudWatch.
3. The report is drawn (a PNG a person can read) and printed.

All of it in the account the prod endpoint stack deploys to: the tooling account when there is
one account, the prod account in a multi-account environment (``make demo ENV=multi``), where the
check runs as its own role. What the alarm does next is :mod:`demo.retrain_act`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.layout import check_report_prefix
from contracts.names import endpoint_name, endpoint_stack_name
from demo.accounts import caller
from demo.release_act import Shipped
from emulator.cfn import Assembly
from emulator.lambdas import LocalFunction
from emulator.local_aws import LocalAws, split_s3_uri
from emulator.provision import create_pipeline, pipeline_from
from emulator.runner import run_pipeline
from ml_code import contract, sample_data
from ml_code.drift.plots import drift_chart, drift_table
from ml_code.drift.report import DISTRIBUTIONS_FILE
from ml_code.serving.capture import flush_all
from ml_code.serving.client import invoke as post

DRIFTED_ROWS = 400
BATCH = 10


@dataclass(frozen=True)
class DriftCheck:
    """The drift check's parameters (from the schedule), its report, and the drawing of it."""

    parameters: dict[str, str]
    metrics: dict[str, Any]
    violations: list[dict[str, str]]
    chart: Path


def send_drifted_traffic(url: str, rows: int = DRIFTED_ROWS, seed: int = 2026) -> int:
    """POST drifted customers to ``url`` in JSON batches; returns how many were answered."""
    frame = sample_data.generate(rows, seed=seed, drift=1.0).drop(columns=[contract.SAMPLE_TARGET_COLUMN])
    records = json.loads(frame.to_json(orient="records"))
    answered = 0
    for start in range(0, len(records), BATCH):
        body = json.dumps(records[start : start + BATCH]).encode()
        if post(url, body, content_type=contract.CONTENT_TYPE_JSON).status == 200:
            answered += len(records[start : start + BATCH])
    return answered


@dataclass(frozen=True)
class Schedule:
    """What the stage's drift schedule starts: the pipeline (by name) and its parameters."""

    pipeline_name: str
    parameters: dict[str, str]


def drift_schedule(assembly: Assembly, stack: str) -> Schedule:
    """The drift schedule of ``stack`` (resolved like CloudFormation would): the pipeline its target
    names and the parameters it passes."""
    found = assembly.resources_of_type("AWS::Scheduler::Schedule")
    for owner, logical_id, resource in found:
        if owner == stack:
            where = f"{stack}/{logical_id}"
            target = assembly.resolve(stack, resource["Properties"]["Target"], where)
            listed = target["SageMakerPipelineParameters"]["PipelineParameterList"]
            return Schedule(
                pipeline_name=str(target["Arn"]).rsplit("/", 1)[-1],
                parameters={p["Name"]: str(p["Value"]) for p in listed},
            )
    raise SystemExit(f"{stack} has no drift schedule (is its stage capturing data?)")


def upload_capture(aws: LocalAws, capture_dir: Path, capture_uri: str, endpoint_name: str) -> int:
    """Upload the local capture files where the endpoint config would have written them."""
    keys = aws.upload_dir(capture_dir / endpoint_name, capture_uri)
    return len(keys)


def read_report(
    aws: LocalAws, bucket: str, execution_id: str, work: Path
) -> tuple[dict[str, Any], list[Any], Path]:
    """The check's report files from the stand-in, and the chart drawn from them."""
    base = f"s3://{bucket}/{check_report_prefix(execution_id)}"
    metrics = json.loads(aws.read_object(f"{base}{contract.DRIFT_METRICS_FILE}"))
    violations = json.loads(aws.read_object(f"{base}{contract.VIOLATIONS_FILE}"))["violations"]
    distributions = json.loads(aws.read_object(f"{base}{DISTRIBUTIONS_FILE}"))
    chart = drift_chart(metrics, work / "drift" / f"{execution_id}.png", distributions=distributions)
    return metrics, violations, chart


def drift_lines(check: DriftCheck) -> list[str]:
    """What the demo prints about the check."""
    metrics = check.metrics
    lines = [
        f"  drift check of {metrics['endpoint_name']}: {metrics['records']} captured records, "
        f"{len(check.violations)} violation(s)",
        *drift_table(metrics),
    ]
    lines += [f"    - {v['constraint_check_type']}: {v['description']}" for v in check.violations[:8]]
    lines.append(f"  drift chart:       {check.chart}")
    return lines


def check_drift(
    aws: LocalAws,
    assembly: Assembly,
    prefix: str,
    work: Path,
    *,
    served: Shipped,
    functions: Mapping[str, LocalFunction],
) -> DriftCheck:
    """Send drifted traffic to the served prod model, upload its capture, run the drift check on it,
    all in the account the prod endpoint stack deploys to (the tooling one in a single account)."""
    endpoint, capture_dir = endpoint_name(prefix, "prod"), served.capture_dir
    stack = endpoint_stack_name(prefix, "prod")
    stage = aws.in_account(assembly.target(stack).account)
    answered = send_drifted_traffic(served.prod_url)
    if not flush_all():
        raise SystemExit("data capture did not flush in time; the drift check would miss requests")
    print(f"  sent {answered} drifted requests (sample generator, drift=1.0) to the prod model")
    schedule = drift_schedule(assembly, stack)
    parameters = schedule.parameters
    uploaded = upload_capture(stage, capture_dir, parameters["CaptureUri"], endpoint)
    print(f"  uploaded {uploaded} capture file(s) → {parameters['CaptureUri']}")
    pipeline = pipeline_from(assembly, name_suffix=schedule.pipeline_name)
    create_pipeline(stage, pipeline)
    # botocore fills ClientRequestToken (an idempotency token); the stubs call it required.
    started = stage.client("sagemaker").start_pipeline_execution(  # type: ignore[call-arg]
        PipelineName=pipeline.name,
        PipelineParameters=[{"Name": k, "Value": v} for k, v in parameters.items()],
        PipelineExecutionDescription="scheduled drift check (demo)",
    )
    execution_id = started["PipelineExecutionArn"].rsplit("/", 1)[-1]
    print(f"  running {pipeline.name} as its schedule would (execution {execution_id})")
    # In a stage account the check runs as its own role there, the one the tooling bucket admits
    # for baselines (stacks/data/stage_access.py); in a single account as before.
    runner = stage if stage is aws else stage.assume_role(pipeline.role_arn, "drift-check")
    if runner is not aws:
        print(f"    in account {stage.account}, as {caller(runner)}")
    result = run_pipeline(
        pipeline.definition,
        runner,
        work / "drift-runs",
        overrides=parameters,
        execution_id=execution_id,
        pipeline_name=pipeline.name,
        functions=functions,
        log=lambda line: print(f"    {line}"),
    )
    if result.status != "Succeeded":
        raise SystemExit(f"the drift check failed: {result.failure}")
    bucket = split_s3_uri(parameters["CaptureUri"])[0]
    metrics, violations, chart = read_report(stage, bucket, execution_id, work)
    return DriftCheck(parameters, metrics, violations, chart)
