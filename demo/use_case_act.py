"""`make demo USE_CASE=<name>`: a second use case on the same stand-in (issue 18 point 5).

After the project's own use case (the primary) has trained, the additional use case named by
``--use-case`` (``environments.<env>.useCases``) goes through the same acts, on the same stand-in
and the same synthesized app, under its own names (``<project>-<env>-<use case>-...``):

1. Its data: the sample generator's churn rows with the target column renamed to the use case's
   (``is_fraud`` in the shipped ``cases`` env), uploaded to its pipeline's input location, which is
   in its own artifact bucket.
2. Its training pipeline (``<prefix>-training``) runs once and registers in its own group.
3. With the release: its version is approved and resolved into its own model files
   (``.build/release/<env>-<use case>-<stage>.json``), from which the release synthesis (the
   primary's, one for both) built its endpoint stacks; those are deployed and smoke-tested, and its
   drift check runs on drifted traffic to its prod model; its alarm goes through the synthesized
   rules to its own retraining trigger.

What then lives side by side is read back from the stand-in: :mod:`demo.side_by_side`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from contracts.approved_model import ApprovedModel
from contracts.config import AppConfig
from contracts.config.use_cases import UseCase
from contracts.names import training_pipeline_name
from demo.drift_act import check_drift, drift_lines
from demo.release_act import approve, resolve_stages, ship
from demo.retrain_act import retrain_loop
from demo.training_act import artefact_lines, run_and_report
from emulator.cfn import Assembly
from emulator.data_upload import upload_data
from emulator.lambdas import LocalFunction
from emulator.local_aws import LocalAws
from emulator.provision import OfflinePipeline, pipeline_from, register
from emulator.runner import RunResult
from ml_code import contract, sample_data

#: Rows of the use case's sample data (as many as the primary's).
ROWS = 4000


@dataclass(frozen=True)
class CaseRun:
    """The additional use case's training: its config, its pipeline, and the run."""

    case: UseCase
    pipeline: OfflinePipeline
    result: RunResult

    @property
    def succeeded(self) -> bool:
        return self.result.status == "Succeeded"


def use_case_of(config: AppConfig, name: str) -> UseCase:
    """The additional use case ``name`` of the environment.

    Raises:
        SystemExit: the environment has no additional use case of that name (names the ones it has).
    """
    others = [case for case in config.use_cases if not case.primary]
    found = next((case for case in others if case.name == name), None)
    if found is None:
        has = ", ".join(case.name for case in others) or "none"
        raise SystemExit(
            f"--use-case {name}: environment {config.env.name} has no additional use case of that name "
            f"(its useCases: {has}); try ENV=cases, the shipped example with the use case fraud"
        )
    return found


def case_data(case: UseCase, path: Path, *, rows: int = ROWS, seed: int = 7, drift: float = 0.0) -> Path:
    """The sample generator's rows with its target column renamed to the use case's, as a CSV."""
    frame = sample_data.generate(rows=rows, seed=seed, drift=drift)
    frame.rename(columns={contract.SAMPLE_TARGET_COLUMN: case.target_column}).to_csv(path, index=False)
    return path


def train_use_case(
    aws: LocalAws, assembly: Assembly, case: UseCase, work: Path, *, mlflow_url: str | None = None
) -> CaseRun:
    """Create the use case's group and pipeline in the stand-in, upload its data, run it once."""
    print(f"\nUse case {case.name}: its own pipeline, registry group and bucket, on the same stand-in")
    # Its Track step logs to the demo's MLflow server too (mlflow_url: None when tracking is off).
    pipeline = dataclasses.replace(
        pipeline_from(assembly, training_pipeline_name(case.prefix)), mlflow_url=mlflow_url
    )
    register(aws, pipeline)
    print(f"  pipeline {pipeline.name}; model package group {pipeline.group}")
    work.mkdir(parents=True, exist_ok=True)
    data = case_data(case, work / f"{case.name}.csv")
    print(
        f"  data: {ROWS} sample rows, target {contract.SAMPLE_TARGET_COLUMN} renamed {case.target_column} "
        f"({case.problem_type}) → {upload_data(aws, pipeline, data)}"
    )
    print()
    result = run_and_report(aws, pipeline, {}, work / "runs")
    print("\n".join(artefact_lines([result], pipeline.group, aws)))
    return CaseRun(case, pipeline, result)


def resolve_use_case(aws: LocalAws, run: CaseRun, root: Path) -> dict[str, ApprovedModel] | None:
    """Approve the use case's version and write its model files under ``root`` (before the release
    synthesis, which builds its endpoint stacks from them); None when its gate held."""
    package = run.result.model_package_arn
    if package is None or run.case.stages is None:
        print(f"  use case {run.case.name}: no version registered (its gate held), so nothing to deploy")
        return None
    approve(aws, package)
    approved = resolve_stages(aws, run.pipeline.group, run.case.stages, root)
    files = ", ".join(str(root / stage.model_file) for stage in run.case.stages)
    print(f"  use case {run.case.name}: a reviewer approves {package}; resolved into {files}")
    return approved


def release_use_case(
    aws: LocalAws,
    config: AppConfig,
    assembly: Assembly,
    work: Path,
    run: CaseRun,
    *,
    approved: dict[str, ApprovedModel],
    functions: Mapping[str, LocalFunction],
) -> int:
    """Deploy and smoke-test the use case's stages, then its drift check and its alarm's way to its
    own retraining trigger; its runs, served models and capture go under ``work``."""
    case = run.case
    print(f"\nRelease of use case {case.name}: its endpoint stacks, from its own model files")
    with ship(aws, config, assembly, work, approved, prefix=case.prefix) as shipped:
        print(f"  prod model served at {shipped.prod_url}, capturing to {shipped.capture_dir}")
        print(f"\nDrift of use case {case.name}: its prod traffic changes too.")
        check = check_drift(aws, assembly, case.prefix, work, served=shipped, functions=functions)
    print("\n".join(drift_lines(check)))
    return retrain_loop(
        aws, assembly, case.prefix, work, run.pipeline, functions=functions, target_column=case.target_column
    )
