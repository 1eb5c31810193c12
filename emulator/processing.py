"""Run a CreateProcessingJob request locally, the way SageMaker runs a processing container.

On each host (:class:`emulator.hosts.Hosts`: ``InstanceCount`` of them, each its own process),
each S3 input is downloaded to its ``LocalPath`` in the host's stand-in for `/opt/ml` (all of it, or
its share when ``ShardedByS3Key``), ``/opt/ml/config/resourceconfig.json`` names the host and
its peers, the request's ``AppSpecification`` command runs there, and each output folder is uploaded
to its ``S3Uri`` (every host's, in host order). A host whose command exits non-zero fails the job
(the others are stopped) with its message file (``ExitMessage``, as DescribeProcessingJob shows it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.hosts import Hosts
from emulator.jobs import JobExitError, StepFailedError, max_runtime
from ml_code import contract


def run_processing(hosts: Hosts, args: Mapping[str, Any]) -> dict[str, Any]:
    """Run a CreateProcessingJob request (expressions resolved); returns the step's properties.

    Raises:
        StepFailedError: an input the runner cannot fetch, or the job's command failed on a host.
    """
    for item in args.get("ProcessingInputs", []):
        what = f"processing input {item.get('InputName')!r}"
        s3_input = item.get("S3Input")
        if s3_input is None:
            raise StepFailedError(f"{what} is not an S3 input (DatasetDefinition inputs cannot run locally)")
        if s3_input.get("S3InputMode", "File") != "File":
            raise StepFailedError(f"{what}: S3InputMode {s3_input['S3InputMode']!r} cannot run locally")
        hosts.download(
            s3_input["S3Uri"],
            s3_input.get("S3DataType", "S3Prefix"),
            s3_input.get("S3DataDistributionType"),
            s3_input["LocalPath"],
            what,
        )
    outputs = args.get("ProcessingOutputConfig", {}).get("Outputs", [])
    for output in outputs:
        if "S3Output" not in output:
            raise StepFailedError(f"processing output {output.get('OutputName')!r} is not an S3 output")
        hosts.make_dirs(output["S3Output"]["LocalPath"])
    app = args["AppSpecification"]
    commands = hosts.commands(
        app.get("ContainerEntrypoint", []),
        app.get("ContainerArguments", []),
        where="AppSpecification.ContainerEntrypoint",
        image=app.get("ImageUri"),
    )
    hosts.write_resource_config(contract.PROCESSING_RESOURCE_CONFIG)
    identity = {
        "ProcessingJobName": hosts.leader.job_name,
        "ProcessingJobArn": hosts.leader.arn("processing-job"),
    }
    try:
        hosts.run(commands, args.get("Environment", {}), contract.PROCESSING_MESSAGE_FILE, max_runtime(args))
    except JobExitError as err:
        err.properties = {**identity, "ProcessingJobStatus": "Failed", "ExitMessage": err.reason}
        raise
    properties: dict[str, Any] = {
        **identity,
        "ProcessingJobStatus": "Completed",
        "ProcessingOutputConfig": {"Outputs": {}},
    }
    for output in outputs:
        s3 = output["S3Output"]
        hosts.upload(s3["LocalPath"], s3["S3Uri"])
        properties["ProcessingOutputConfig"]["Outputs"][output["OutputName"]] = {
            "OutputName": output["OutputName"],
            "S3Output": dict(s3),
        }
    return properties
