"""`make demo`: the whole platform offline, on this machine.

1. Synthesizes the CDK app with the real CLI (the templates CloudFormation would deploy).
2. Starts the AWS stand-in (a moto server on 127.0.0.1), creates the stateful resources
   the templates declare (buckets, the model package group), uploads the CDK assets
   where the templates expect them, and registers the pipeline definition.
3. Runs the pipeline definition from the synthesized template on the sample data (or
   the user's CSV), approves the registered version, and runs it again so the second
   version goes through the champion/challenger gate against a real champion.
4. Prints where everything is.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ml_code import contract, sample_data
from offline.cfn import Assembly
from offline.local_aws import LocalAws, moto_server, split_s3_uri
from offline.runner import RunResult, run_pipeline

ROOT = Path(__file__).resolve().parent.parent
CDK_ENV = {
    "CDK_DISABLE_VERSION_CHECK": "1",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}


def synth(env_name: str, out_dir: Path) -> Assembly:
    """Run the real `cdk synth` into `out_dir` and load the result."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    command = ["npx", "--no-install", "cdk", "synth", "--no-notices", "--quiet", "-c", f"env={env_name}"]
    command += ["--output", str(out_dir)]
    started = time.monotonic()
    completed = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **CDK_ENV}, check=False, capture_output=True, text=True
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"cdk synth failed (exit {completed.returncode}); see the output above")
    assembly = Assembly.load(out_dir)
    print(f"Synthesized {len(assembly.templates)} stacks in {time.monotonic() - started:.1f}s → {out_dir}")
    for stack, template in sorted(assembly.templates.items()):
        counts = Counter(r["Type"] for r in template.get("Resources", {}).values())
        print(f"  {stack:<32} {sum(counts.values()):>3} resources")
    return assembly


def pipeline_definition(assembly: Assembly) -> tuple[str, dict[str, Any]]:
    """The pipeline's name and its definition, intrinsics resolved, from the templates."""
    pipelines = assembly.resources_of_type("AWS::SageMaker::Pipeline")
    if len(pipelines) != 1:
        raise SystemExit(f"expected one AWS::SageMaker::Pipeline in the assembly, found {len(pipelines)}")
    stack, logical_id, resource = pipelines[0]
    props = resource["Properties"]
    body = assembly.resolve(
        stack, props["PipelineDefinition"]["PipelineDefinitionBody"], f"{stack}/{logical_id}"
    )
    name = assembly.resolve(stack, props.get("PipelineName", logical_id))
    return str(name), json.loads(body)


def provision(assembly: Assembly, aws: LocalAws, pipeline_name: str, definition: dict[str, Any]) -> str:
    """Create what the templates declare and the pipeline needs; returns the group name."""
    for stack, logical_id, _ in assembly.resources_of_type("AWS::S3::Bucket"):
        aws.ensure_bucket(assembly.resolve(stack, {"Ref": logical_id}))
    for path, bucket, key in assembly.asset_files():
        if path.is_file():
            aws.upload_file(path, f"s3://{bucket}/{key}")
    sm = aws.client("sagemaker")
    groups = assembly.resources_of_type("AWS::SageMaker::ModelPackageGroup")
    if len(groups) != 1:
        raise SystemExit(f"expected one model package group in the assembly, found {len(groups)}")
    group = assembly.resolve(groups[0][0], {"Ref": groups[0][1]})
    sm.create_model_package_group(ModelPackageGroupName=group, ModelPackageGroupDescription="offline demo")
    role = definition["Steps"][0]["Arguments"].get("RoleArn", "arn:aws:iam::123456789012:role/offline")
    sm.create_pipeline(PipelineName=pipeline_name, PipelineDefinition=json.dumps(definition), RoleArn=role)
    return str(group)


def upload_data(aws: LocalAws, definition: dict[str, Any], data: Path | None, work: Path) -> str:
    """Put the training data where the pipeline's InputDataUri default points."""
    uri = next(p["DefaultValue"] for p in definition["Parameters"] if p["Name"] == "InputDataUri")
    if data is None:
        data = work / "sample.csv"
        sample_data.generate(rows=4000, seed=7).to_csv(data, index=False)
        print(f"Sample data: 4000 churn rows → {data}")
    bucket, prefix = split_s3_uri(uri)
    aws.upload_file(data, f"s3://{bucket}/{prefix.rstrip('/')}/{data.name}")
    return str(uri)


def print_run(result: RunResult, aws: LocalAws) -> dict[str, Any] | None:
    """A run summary: status, duration and outputs per step, and the gate's figures."""
    print(f"\nExecution {result.execution_id}: {result.status}")
    for step in result.steps:
        print(f"  {step.name:<20} {step.type:<14} {step.status:<10} {step.seconds:6.1f}s")
        for key, value in step.outputs.items():
            print(f"      {key}: {value}")
    if result.failure:
        print(f"  ! {result.failure.splitlines()[0]}")
    report = None
    evaluate = result.properties.get("Evaluate")
    if evaluate:
        uri = evaluate["ProcessingOutputConfig"]["Outputs"][contract.EVALUATION_OUTPUT]["S3Output"]["S3Uri"]
        report = json.loads(aws.read_object(f"{uri.rstrip('/')}/{contract.EVALUATION_FILE}"))
        gate = report[contract.GATE_SECTION]
        champion = gate.get("champion_value")
        print(
            f"  Quality gate: {gate['metric']} = {gate['value']:.4f}; champion "
            + (f"{champion:.4f} (floor {gate['champion_floor']:.4f})" if champion is not None else "none")
        )
    if result.model_package_arn:
        package = aws.client("sagemaker").describe_model_package(ModelPackageName=result.model_package_arn)
        print(
            f"  Registered: {result.model_package_arn} (version {package.get('ModelPackageVersion')}, "
            f"{package['ModelApprovalStatus']})"
        )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env", default="dev", help="environment in cdk.json (default dev)")
    parser.add_argument("--data", type=Path, help="your own CSV instead of the sample data")
    parser.add_argument("--target", help="target column of --data")
    parser.add_argument("--problem-type", choices=contract.PROBLEM_TYPES, help="problem type of --data")
    parser.add_argument(
        "--work-dir", type=Path, default=ROOT / ".demo", help="where runs go (default .demo/)"
    )
    parser.add_argument(
        "--runs", type=int, default=2, choices=(1, 2), help="1 = register only; 2 = also champion"
    )
    args = parser.parse_args(argv)
    if args.data is not None and not (args.target and args.problem_type):
        parser.error("--data needs --target and --problem-type (make demo DATA=… TARGET=… PROBLEM=…)")
    if args.data is not None and not args.data.is_file():
        parser.error(f"--data {args.data}: no such file")
    work: Path = args.work_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    assembly = synth(args.env, work / "cdk.out")
    pipeline_name, definition = pipeline_definition(assembly)
    overrides = {}
    if args.data is not None:
        overrides = {"TargetColumn": args.target, "ProblemType": args.problem_type}
    with moto_server() as aws:
        print(f"AWS stand-in: moto server at {aws.endpoint_url}")
        group = provision(assembly, aws, pipeline_name, definition)
        upload_data(aws, definition, args.data, work)
        results: list[RunResult] = []
        for run in range(args.runs):
            if run == 1:
                _approve(aws, results[0])
                print(
                    "\nApproved version 1; running again: the new version must beat it (champion/challenger)."
                )
            print()
            result = run_pipeline(definition, aws, work / "runs", overrides=overrides)
            results.append(result)
            print_run(result, aws)
            if result.status != "Succeeded":
                break
        _print_artefacts(results, group, aws)
    return 0 if all(r.status == "Succeeded" for r in results) else 1


def _approve(aws: LocalAws, result: RunResult) -> None:
    if result.model_package_arn is None:
        raise SystemExit("the first run registered no model version, so there is nothing to approve")
    aws.client("sagemaker").update_model_package(
        ModelPackageArn=result.model_package_arn, ModelApprovalStatus="Approved"
    )


def _print_artefacts(results: list[RunResult], group: str, aws: LocalAws) -> None:
    last = results[-1]
    packages = aws.client("sagemaker").list_model_packages(ModelPackageGroupName=group, SortOrder="Ascending")
    print("\nArtefacts")
    print(f"  run folder:        {last.run_dir}")
    model = last.run_dir / "Train" / "model.tar.gz"
    if model.exists():
        print(f"  model:             {model}")
        print(f"  serve it:          make serve MODEL={model}")
    evaluation = last.run_dir / "Evaluate" / "opt_ml" / "processing" / "output" / "evaluation"
    if evaluation.exists():
        print(f"  evaluation report: {evaluation / contract.EVALUATION_FILE}")
        for plot in sorted(evaluation.glob("*.png")):
            print(f"  plot:              {plot}")
    for package in packages["ModelPackageSummaryList"]:
        print(
            f"  registered:        {group} v{package.get('ModelPackageVersion')} "
            f"{package['ModelApprovalStatus']} {package['ModelPackageArn']}"
        )
    status = (
        "all runs succeeded" if all(r.status == "Succeeded" for r in results) else f"FAILED: {last.failure}"
    )
    print(f"  result:            {status}")


if __name__ == "__main__":
    sys.exit(main())
