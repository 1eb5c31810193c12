"""`make demo`, the first act: the synthesized training pipeline runs, and what it did is printed.

Each execution is started in the stand-in's pipeline API (or was started by the retraining
trigger), run by the emulator, then summarized: the steps, the registered version, the
quality gate's sentence from the evaluation report, and where the artefacts are. A run the gate
held ends ``make demo`` with HELD_EXIT_CODE (3): a decision, not an error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from emulator.local_aws import LocalAws
from emulator.provision import OfflinePipeline
from emulator.report import summary_lines
from emulator.runner import RunResult, run_pipeline
from ml_code import contract
from ml_code.steps.preprocess_outputs import FEATURE_REPORT_FILE


def run_and_report(
    aws: LocalAws,
    pipeline: OfflinePipeline,
    overrides: dict[str, Any],
    runs_dir: Path,
    execution_arn: str | None = None,
) -> RunResult:
    """One execution: recorded in the stand-in's pipeline API, run locally, summarized.

    ``execution_arn`` is an execution someone else started (the retraining trigger); without it
    the demo starts one.
    """
    # moto records the execution (and, being a stand-in, calls it Succeeded at once); its id
    # names the local run so the two can be matched. The local run's status is the truth.
    if execution_arn is None:
        # botocore fills ClientRequestToken (an idempotency token); the stubs call it required.
        execution_arn = aws.client("sagemaker").start_pipeline_execution(  # type: ignore[call-arg]
            PipelineName=pipeline.name,
            PipelineParameters=[{"Name": k, "Value": str(v)} for k, v in overrides.items()],
        )["PipelineExecutionArn"]
    execution_id = execution_arn.rsplit("/", 1)[-1]
    result = run_pipeline(
        pipeline.definition,
        aws,
        runs_dir,
        overrides=overrides,
        execution_id=execution_id,
        pipeline_name=pipeline.name,
        mlflow_url=pipeline.mlflow_url,
    )
    print()
    print("\n".join(summary_lines(result, aws)))
    print("\n".join(feature_lines(result, aws)))
    print("\n".join(gate_lines(result, aws)))
    return result


#: ``make demo``'s exit code when the quality gate held the candidate (0: passed, 1: an error).
HELD_EXIT_CODE = 3


def held(result: RunResult) -> bool:
    """Whether the run stopped because the quality gate held its candidate (not because of an error)."""
    return any(s.outputs.get("Outcome") == "false" for s in result.steps)


def gate_lines(result: RunResult, aws: LocalAws) -> list[str]:
    """The quality gate's sentence (Evaluate's report) and its outcome."""
    report = evaluation_report(result, aws)
    if report is None:
        return []
    gate = report[contract.GATE_SECTION]
    outcome = next((s.outputs["Outcome"] for s in result.steps if "Outcome" in s.outputs), "not reached")
    words = {"true": "passed → registered", "false": "held → not registered"}
    return [f"  Gate: {gate['message']}", f"  Gate outcome: {words.get(outcome, outcome)}"]


def feature_lines(result: RunResult, aws: LocalAws) -> list[str]:
    """Preprocess's feature report, one line per raw column: its role and why (none: no lines)."""
    for properties in result.properties.values():
        outputs = properties.get("ProcessingOutputConfig", {}).get("Outputs", {})
        if "baseline" in outputs and "transformer" in outputs:  # Preprocess's outputs
            uri = outputs["baseline"]["S3Output"]["S3Uri"].rstrip("/")
            try:
                report = json.loads(aws.read_object(f"{uri}/{FEATURE_REPORT_FILE}"))
            except ClientError:  # a run from before the report: nothing to show
                return []
            return ["  Columns:"] + [
                f"    {c['name']:<20} {c['role']:<11} {c['reason']}" for c in report["columns"]
            ]  # fmt: skip
    return []


def evaluation_report(result: RunResult, aws: LocalAws) -> dict[str, Any] | None:
    """The evaluation.json of the run's evaluate step, if it ran."""
    for properties in result.properties.values():
        outputs = properties.get("ProcessingOutputConfig", {}).get("Outputs", {})
        if contract.EVALUATION_OUTPUT in outputs:
            uri = outputs[contract.EVALUATION_OUTPUT]["S3Output"]["S3Uri"].rstrip("/")
            report: dict[str, Any] = json.loads(aws.read_object(f"{uri}/{contract.EVALUATION_FILE}"))
            return report
    return None


def artefact_lines(results: Sequence[RunResult], group: str, aws: LocalAws) -> list[str]:
    """Where the last run's artefacts are, and every registered version."""
    last = results[-1]
    lines = ["", "Artefacts", f"  run folder:        {last.run_dir}"]
    for model in sorted(last.run_dir.glob("*/model.tar.gz")):
        lines += [f"  model:             {model}", f"  serve it:          make serve MODEL={model}"]
    # Where Evaluate wrote it (the Track step has a copy among its inputs)
    written = contract.EVALUATION_DIR.removeprefix(contract.OPT_ML).strip("/")
    for report in sorted(last.run_dir.glob(f"*/opt_ml/{written}/{contract.EVALUATION_FILE}")):
        lines.append(f"  evaluation report: {report}")
        lines += [f"  plot:              {plot}" for plot in sorted(report.parent.glob("*.png"))]
    packages = aws.client("sagemaker").list_model_packages(ModelPackageGroupName=group, SortOrder="Ascending")
    for package in packages["ModelPackageSummaryList"]:
        lines.append(
            f"  registered:        {group} v{package.get('ModelPackageVersion')} "
            f"{package['ModelApprovalStatus']:<22} {package['ModelPackageArn']}"
        )
    ok = all(r.status == "Succeeded" for r in results)
    if ok:
        lines.append("  result:            all runs succeeded")
    elif held(last):
        lines.append(
            f"  result:            held by the quality gate, nothing registered (exit code {HELD_EXIT_CODE})"
        )
    else:
        lines.append(f"  result:            FAILED: {last.failure.splitlines()[0]}")
    return lines
