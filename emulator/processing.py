"""Run a CreateProcessingJob request locally, the way SageMaker runs a processing container.

Each S3 input is downloaded to its ``LocalPath`` in the job's stand-in for `/opt/ml`
(:class:`emulator.jobs.JobContext`), the request's ``AppSpecification`` command runs there, and
each output folder is uploaded to its ``S3Uri``. A command that exits non-zero fails the job with
its message file (``ExitMessage``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.jobs import JobContext, StepFailedError, max_runtime
from ml_code import contract


def run_processing(job: JobContext, args: Mapping[str, Any]) -> dict[str, Any]:
    """Run a CreateProcessingJob request (expressions resolved); returns the step's properties.

    Raises:
        StepFailedError: an input the runner cannot fetch, or the job's command failed.
    """
    for item in args.get("ProcessingInputs", []):
        what = f"processing input {item.get('InputName')!r}"
        s3_input = item.get("S3Input")
        if s3_input is None:
            raise StepFailedError(f"{what} is not an S3 input (DatasetDefinition inputs cannot run locally)")
        if s3_input.get("S3InputMode", "File") != "File":
            raise StepFailedError(f"{what}: S3InputMode {s3_input['S3InputMode']!r} cannot run locally")
        job.download(s3_input["S3Uri"], s3_input.get("S3DataType", "S3Prefix"), s3_input["LocalPath"], what)
    outputs = args.get("ProcessingOutputConfig", {}).get("Outputs", [])
    for output in outputs:
        if "S3Output" not in output:
            raise StepFailedError(f"processing output {output.get('OutputName')!r} is not an S3 output")
        job.local(output["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
    app = args["AppSpecification"]
    command = job.command(
        app.get("ContainerEntrypoint", []),
        app.get("ContainerArguments", []),
        where="AppSpecification.ContainerEntrypoint",
        image=app.get("ImageUri"),
    )
    env = job.environment(args.get("Environment", {}))
    job.run(command, env, job.step_dir, contract.PROCESSING_MESSAGE_FILE, max_runtime(args))
    properties: dict[str, Any] = {
        "ProcessingJobName": job.job_name,
        "ProcessingJobArn": job.arn("processing-job"),
        "ProcessingJobStatus": "Completed",
        "ProcessingOutputConfig": {"Outputs": {}},
    }
    for output in outputs:
        s3 = output["S3Output"]
        job.aws.upload_dir(job.local(s3["LocalPath"]), s3["S3Uri"])
        properties["ProcessingOutputConfig"]["Outputs"][output["OutputName"]] = {
            "OutputName": output["OutputName"],
            "S3Output": dict(s3),
        }
    return properties
