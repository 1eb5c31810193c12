"""`make demo`: the whole platform offline, on this machine.

1. Synthesizes the CDK app with the real CLI (the templates CloudFormation would deploy).
2. Starts the AWS stand-in (a moto server on 127.0.0.1), creates the buckets and the model
   package group the templates declare, uploads the CDK assets where the templates expect
   them, registers the pipeline, and uploads the data to the pipeline's input location.
3. Runs the pipeline definition from the synthesized template on the sample data (or the
   user's CSV), approves the registered version, and runs it again so the second version
   goes through the champion/challenger gate against a real champion.
4. Prints where everything is.

With ``tracking.enabled`` (``dev``), a local MLflow server runs for the demo's length and every
training run is logged to it by the pipeline's Track step (:mod:`demo.tracking`).

With a multi-account environment (``make demo ENV=multi``) the tooling side acts in the tooling
account, each stage is deployed and smoke-tested in its own (:mod:`demo.accounts`), the drift
check runs in the prod account and its alarm starts retraining in the tooling account through
the tooling account's stage-events bus (:mod:`demo.retrain_act`).

With ``--use-case NAME`` (``make demo USE_CASE=fraud``: the ``cases`` env), an additional use case
of the environment then trains, is released and checked for drift on the same stand-in
(:mod:`demo.use_case_act`), and the demo ends with what the stand-in holds for each use case, side
by side (:mod:`demo.side_by_side`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from contracts.approved_model import ApprovedModel
from contracts.config import AppConfig, load_config
from contracts.names import model_package_group_name, training_pipeline_name
from demo.accounts import tooling_lines, tooling_side
from demo.arguments import parse_arguments
from demo.batch_act import batch_act
from demo.drift_act import check_drift, drift_lines
from demo.release_act import approve, resolve_stages, ship
from demo.retrain_act import retrain_loop
from demo.shadow_act import shadow_test
from demo.side_by_side import Owner, crossings, holdings, side_by_side_lines
from demo.synth import ROOT, synth
from demo.tracking import local_tracking, tracked
from demo.training_act import HELD_EXIT_CODE, artefact_lines, held, run_and_report
from demo.use_case_act import CaseRun, release_use_case, resolve_use_case, train_use_case, use_case_of
from emulator.cfn import Assembly
from emulator.data_upload import upload_data
from emulator.lambdas import LocalFunction, functions_from
from emulator.local_aws import LocalAws, moto_server
from emulator.provision import OfflinePipeline, pipeline_from, provision, upload_assets
from emulator.runner import RunResult
from emulator.tracking_server import LocalTrackingServer
from ml_code import sample_data

SAMPLE_ROWS = 4000
#: Pipeline parameters a user's own data overrides (stacks/pipeline/parameters.py).
TARGET_PARAMETER, PROBLEM_PARAMETER, THRESHOLD_PARAMETER = "TargetColumn", "ProblemType", "QualityThreshold"


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv, description=__doc__ or "")
    work: Path = args.work_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    config = demo_config(args.env)
    start_server = config.env.tracking.enabled and args.mlflow_url is None
    with local_tracking(start_server, work) as tracking:
        return _run(args, config, work, tracking)


def _run(
    args: argparse.Namespace, config: AppConfig, work: Path, tracking: LocalTrackingServer | None
) -> int:
    """The demo once the tracking server (if any) is starting: synth, train, release."""
    case = use_case_of(config, args.use_case) if args.use_case else None
    assembly = Assembly.load(args.cdk_out) if args.cdk_out else synth(args.env, work / "cdk.out")
    pipeline = pipeline_from(assembly, training_pipeline_name(config.prefix))
    pipeline = tracked(pipeline, tracking, args.mlflow_url if config.env.tracking.enabled else None)
    overrides: dict[str, Any] = {}
    data: Path = args.data
    if data is None:
        data = work / "sample.csv"
        sample_data.generate(rows=SAMPLE_ROWS, seed=7).to_csv(data, index=False)
        print(f"Sample data: {SAMPLE_ROWS} churn rows → {data}")
    else:
        overrides = {TARGET_PARAMETER: args.target, PROBLEM_PARAMETER: args.problem_type}
    if args.threshold is not None:
        overrides[THRESHOLD_PARAMETER] = args.threshold
    with moto_server() as stand_in:
        print(f"AWS stand-in: moto server at {stand_in.endpoint_url}")
        aws = tooling_side(stand_in, pipeline)
        for line in tooling_lines(aws):
            print(line)
        assets = provision(assembly, aws, pipeline)
        print(
            f"  {assets} CDK file assets uploaded; pipeline {pipeline.name}; "
            f"model package group {pipeline.group}"
        )
        print(f"  data: {data} → {upload_data(aws, pipeline, data)}")
        results = _train(aws, pipeline, overrides, work / "runs", runs=args.runs)
        print("\n".join(artefact_lines(results, pipeline.group, aws)))
        if not all(r.status == "Succeeded" for r in results):
            return HELD_EXIT_CODE if held(results[-1]) else 1
        second = (
            None
            if case is None
            else train_use_case(aws, assembly, case, work / case.name, mlflow_url=pipeline.mlflow_url)
        )
        if second is not None and not second.succeeded:
            return 1
        code = 0
        if not args.no_release:
            retrain, url = (pipeline if args.data is None else None), pipeline.mlflow_url
            code = release_loop(aws, config, work, results, retrain=retrain, second=second, url=url)
        if second is not None:
            return side_by_side(aws, config, pipeline, second) or code
    return code


def demo_config(env_name: str) -> AppConfig:
    """The environment's config from the project's cdk.json (no approved-model files read)."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    return load_config({k: context[k] for k in ("env", "project", "environments")}, env_name)


def release_loop(
    aws: LocalAws,
    config: AppConfig,
    work: Path,
    results: Sequence[RunResult],
    *,
    retrain: OfflinePipeline | None,
    second: CaseRun | None = None,
    url: str | None = None,
) -> int:
    """Approve the newest version, resolve, synthesize the endpoint stacks, deploy, smoke-test (and mark
    the shipped runs on the MLflow server at ``url``); then, with the sample data (``retrain`` is the
    training pipeline), the drift act. ``second``: an additional use case's run, resolved before the
    same synthesis and released after."""
    newest = next((r.model_package_arn for r in reversed(results) if r.model_package_arn), None)
    if newest is None:
        print("\nNo version was registered (the gate held), so there is nothing to deploy.")
        return 0
    print(f"\nRelease: a reviewer approves {newest}; the approval event starts the deploy pipeline.")
    approve(aws, newest)
    root = work / "project"
    approved = resolve_stages(aws, model_package_group_name(config.prefix), config.env.endpoints, root)
    files = ", ".join(str(root / s.model_file) for s in config.env.endpoints)
    print(f"  resolved the newest approved version into {files}")
    also = None if second is None else resolve_use_case(aws, second, root)
    assembly = synth(config.env.name, work / "cdk.out.release", context={"approvedModelRoot": str(root)})
    upload_assets(assembly, aws)  # the endpoint stacks' and functions' assets, as cdk deploy would
    functions = functions_from(assembly)
    code = _release_primary(aws, config, assembly, work, approved, url, retrain=retrain, functions=functions)
    if second is None or also is None:
        return code
    case_work = work / second.case.name
    return (
        release_use_case(aws, config, assembly, case_work, second, approved=also, functions=functions) or code
    )


def _release_primary(  # noqa: PLR0917 (the MLflow URL beside what it ships keeps the call one line)
    aws: LocalAws,
    config: AppConfig,
    assembly: Assembly,
    work: Path,
    approved: dict[str, ApprovedModel],
    url: str | None,
    *,
    retrain: OfflinePipeline | None,
    functions: Mapping[str, LocalFunction],
) -> int:
    """Ship the primary's version to staging and prod; with ``retrain``, the drift and retrain acts."""
    with ship(aws, config, assembly, work, approved, mlflow_url=url) as shipped:
        print(f"  prod model served at {shipped.prod_url}, capturing to {shipped.capture_dir}")
        batch_act(aws, config, assembly, work, functions, sample=retrain is not None)  # batch.enabled
        if retrain is None:
            print("  (the drift act needs the sample data's drift knob, so it runs only without --data)")
            print("  result:            released to staging and prod; both smoke tests passed")
            return 0
        print("\nDrift: production traffic changes (the sample generator's drift knob).")
        check = check_drift(aws, assembly, config.prefix, work, served=shipped, functions=functions)
    print("\n".join(drift_lines(check)))
    return retrain_loop(aws, assembly, config.prefix, work, retrain, functions=functions) or shadow_test(
        aws, config, work
    )


def side_by_side(aws: LocalAws, config: AppConfig, primary: OfflinePipeline, second: CaseRun) -> int:
    """Print both use cases' holdings as the stand-in has them; 1 if anything crossed."""
    stages = tuple(stage.name for stage in config.env.endpoints)
    owners = (
        Owner(config.project_name, config.prefix, primary, stages),
        Owner(second.case.name, second.case.prefix, second.pipeline, stages),
    )
    held = [holdings(aws, owner) for owner in owners]
    print("\n".join(side_by_side_lines(held)))
    return 1 if crossings(held) else 0


def _train(
    aws: LocalAws, pipeline: OfflinePipeline, overrides: dict[str, Any], runs_dir: Path, *, runs: int
) -> list[RunResult]:
    """``runs`` executions of the training pipeline, approving version 1 between them; stops at a failure."""
    results: list[RunResult] = []
    for run in range(runs):
        if run == 1:
            _approve(aws, results[0])
            print("\nApproved version 1; running again: the new version must not be worse than it.")
        print()
        results.append(run_and_report(aws, pipeline, overrides, runs_dir))
        if results[-1].status != "Succeeded":
            break
    return results


def _approve(aws: LocalAws, result: RunResult) -> None:
    if result.model_package_arn is None:
        raise SystemExit("the first run registered no model version, so there is nothing to approve")
    approve(aws, result.model_package_arn)
