"""`make demo`, the batch act (``batch.enabled``): a file of customers scored by the batch pipeline.

1. New customers (the sample generator, a seed training never saw), target dropped, each with a
   ``row_id`` key first, headerless, are written under the batch pipeline's default input
   (``InputDataUri``: ``data/batch/`` in the artifact bucket).
2. The synthesized ``<prefix>-batch-score`` pipeline runs as ``make score`` would start it:
   ResolveModel (the Lambda's own code) finds the newest Approved version now, CreateModel makes
   its model in the stand-in, Score runs the Transform job with the version's own serving code
   (:mod:`emulator.transform`), ScoreReport writes the manifest and the drift check of the rows.
3. The manifest's summary, the first predictions and the drift verdict are printed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from contracts.config import AppConfig
from contracts.layout import BATCH_MANIFEST_FILE
from contracts.names import BATCH_SCORE_SUFFIX
from emulator.cfn import Assembly
from emulator.lambdas import LocalFunction
from emulator.local_aws import LocalAws
from emulator.provision import create_pipeline, pipeline_from
from emulator.runner import RunResult, run_pipeline
from ml_code import contract, sample_data

BATCH_ROWS: Final = 500
#: Fresh customers: a seed neither the training data (7) nor the drift act's traffic (2026) uses.
BATCH_SEED: Final = 404
INPUT_PARAMETER: Final = "InputDataUri"
INPUT_FILE: Final = "customers.csv"
SHOWN_PREDICTIONS: Final = 3


@dataclass(frozen=True)
class BatchRun:
    """A finished batch run: its result, the manifest it wrote, and its first predictions."""

    result: RunResult
    manifest: dict[str, Any]
    first_predictions: list[str]


def write_batch_input(aws: LocalAws, input_uri: str, key_column: str | None, rows: int = BATCH_ROWS) -> str:
    """Upload ``rows`` new customers as headerless CSV (``key_column`` first, if any); returns the URI."""
    frame = sample_data.generate(rows, seed=BATCH_SEED).drop(columns=[contract.SAMPLE_TARGET_COLUMN])
    if key_column:
        frame.insert(0, key_column, [f"c{i:05d}" for i in range(rows)])
    uri = f"{input_uri.rstrip('/')}/{INPUT_FILE}"
    bucket, _, key = uri[len("s3://") :].partition("/")
    aws.ensure_bucket(bucket)
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=frame.to_csv(header=False, index=False).encode())
    return uri


def score_batch(
    aws: LocalAws,
    assembly: Assembly,
    work: Path,
    *,
    key_column: str | None,
    functions: Mapping[str, LocalFunction],
) -> BatchRun:
    """Write the input, run the synthesized batch pipeline on it; raises SystemExit when it fails."""
    pipeline = pipeline_from(assembly, name_suffix=BATCH_SCORE_SUFFIX)
    stage = aws.in_account(pipeline.account)
    parameters = {p["Name"]: p.get("DefaultValue") for p in pipeline.definition.get("Parameters", [])}
    input_uri = str(parameters[INPUT_PARAMETER])
    print(f"  {BATCH_ROWS} new customers ({key_column or 'no key'} first, headerless) → "
          f"{write_batch_input(stage, input_uri, key_column)}")  # fmt: skip
    create_pipeline(stage, pipeline)
    started = stage.client("sagemaker").start_pipeline_execution(  # type: ignore[call-arg]
        PipelineName=pipeline.name, PipelineExecutionDescription="batch scoring (demo)"
    )
    execution_id = started["PipelineExecutionArn"].rsplit("/", 1)[-1]
    print(f"  running {pipeline.name} as `make score` would start it (execution {execution_id})")
    result = run_pipeline(
        pipeline.definition,
        stage,
        work / "batch-runs",
        execution_id=execution_id,
        pipeline_name=pipeline.name,
        functions=functions,
        log=lambda line: print(f"    {line}"),
    )
    if result.status != "Succeeded":
        raise SystemExit(f"the batch scoring run failed: {result.failure}")
    report = next(s for s in result.steps if s.status == "Succeeded" and "report" in s.outputs)
    manifest = json.loads(stage.read_object(f"{report.outputs['report'].rstrip('/')}/{BATCH_MANIFEST_FILE}"))
    first = manifest["files"][0]["output"]
    text = stage.read_object(f"{manifest['output_uri'].rstrip('/')}/{first}").decode()
    return BatchRun(result, manifest, text.splitlines()[:SHOWN_PREDICTIONS])


def batch_lines(run: BatchRun) -> list[str]:
    """What the act prints: who scored what, the first predictions, the drift verdict."""
    manifest, drift = run.manifest, run.manifest["drift"]
    drifted = ", ".join(drift.get("drifted_features", [])) or "none"
    checked = f"{drift.get('verdict')} ({drift.get('records')} rows; drifted: {drifted})"
    verdict = checked if drift.get("checked") else drift["reason"]
    return [
        f"  version {manifest['version']} ({manifest['model_package_arn']}) scored {manifest['rows']} rows "
        f"in {len(manifest['files'])} file(s)",
        f"  predictions:       {manifest['output_uri']} (columns: {', '.join(manifest['output_columns'])})",
        *(f"    {line}" for line in run.first_predictions),
        f"  drift of the rows: {verdict}",
    ]


def batch_act(
    aws: LocalAws,
    config: AppConfig,
    assembly: Assembly,
    work: Path,
    functions: Mapping[str, LocalFunction],
    *,
    sample: bool,
) -> None:
    """The act when the environment's ``batch.enabled`` (else nothing); a failed run exits.

    ``sample``: the demo trained on the sample data (the act scores new sample customers, whose
    columns a user's own data would not have).
    """
    if not config.env.batch.enabled:
        return
    if not sample:
        print("  (the batch act scores sample customers, so it runs only without --data)")
        return
    print("\nBatch: a file of new customers is scored by the newest approved version, no endpoint involved.")
    run = score_batch(aws, assembly, work, key_column=config.env.batch.key_column, functions=functions)
    print("\n".join(batch_lines(run)))
