"""Run a CreateTransformJob request locally, the way SageMaker runs a batch transform job.

The model: ``ModelName`` is looked up in the AWS stand-in; a container naming a
``ModelPackageName`` takes the package's first inference container (its ``ModelDataUrl`` and
``Environment``), else the model's own. Its model.tar.gz is unpacked into the job's stand-in for
``/opt/ml/model`` and the model's own serving code (``SAGEMAKER_SUBMIT_DIRECTORY``/``PROGRAM``:
``code/inference.py``) runs in a process of its own (:mod:`emulator.transform_worker`), answering
requests through ``model_fn`` and ``transform_fn`` as the image's serving toolkit calls them.

Each object under ``TransformInput.DataSource.S3DataSource.S3Uri`` is cut into records, filtered
and batched (:mod:`emulator.transform_records`), sent with ``ContentType``/``Accept``, and each
answer checked: a non-2xx status fails the job with the answer's text; with ``JoinSource Input``
(or an ``OutputFilter``) an answer must hold one line per record sent. The joined, filtered
lines are assembled (``AssembleWith Line``: one per line) into
``<S3OutputPath>/<path below the input prefix>.out``.

Not emulated (said in the step's notes): ``InstanceCount`` > 1 and ``MaxConcurrentTransforms``
> 1 (one process answers one request at a time), KMS keys (the stand-in does not encrypt), VPC.
The model process never gets the stand-in's AWS endpoint (batch models run network-isolated).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Final

from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters

from emulator.api_shapes import render
from emulator.jobs import JobContext, StepFailedError
from emulator.local_aws import LocalAws, split_s3_uri
from emulator.processes import stop_group
from emulator.transform_records import TransformRecordError, apply, batches, parse_filter, split_records
from ml_code import contract

WORKER: Final = Path(__file__).resolve().with_name("transform_worker.py")
MODEL_DIR: Final = f"{contract.OPT_ML}/model"


class ModelProcess:
    """The model's serving code in its own process (``python``: its interpreter), one request at a time."""

    def __init__(self, job: JobContext, environment: Mapping[str, str], python: str = sys.executable) -> None:
        self.job = job
        env = {k: v for k, v in job.environment(environment).items() if not k.startswith("AWS_")}
        with job.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [python, str(WORKER), str(job.local(MODEL_DIR))],
                env=env, cwd=job.home, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                start_new_session=True,
            )  # fmt: skip
        ready = self._head()
        if not ready.get("ready"):
            raise self.failed(f"the model could not load: {ready.get('error', 'the process exited')}")

    def _head(self) -> dict[str, Any]:
        line = self._out.readline()
        return json.loads(line) if line else {}

    @property
    def _out(self) -> IO[bytes]:
        assert self.process.stdout is not None
        return self.process.stdout

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[int, bytes]:
        """(status, body) of the model's answer to one request."""
        assert self.process.stdin is not None
        head = {"content_type": content_type, "accept": accept, "length": len(body)}
        try:
            self.process.stdin.write(json.dumps(head).encode("utf-8") + b"\n" + body)
            self.process.stdin.flush()
        except BrokenPipeError:
            raise self.failed("the model process exited") from None
        answer = self._head()
        if not answer:
            raise self.failed("the model process exited while answering")
        return int(answer["status"]), self._out.read(int(answer["length"]))

    def failed(self, reason: str) -> StepFailedError:
        tail = "\n".join(self.job.log_path.read_text(errors="replace").splitlines()[-15:])
        return StepFailedError(f"{reason}\n--- last lines of {self.job.log_path} ---\n{tail}")

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        stop_group(self.process, grace_s=2.0)


def model_container(aws: LocalAws, model_name: str) -> dict[str, Any]:
    """The model's container (``ModelDataUrl``, ``Environment``), through its package if it names one.

    Raises:
        StepFailedError: no such model, or a container without model data.
    """
    sagemaker = aws.client("sagemaker")
    try:
        model = sagemaker.describe_model(ModelName=model_name)
    except Exception as err:  # ClientError: ValidationException for an unknown model
        raise StepFailedError(f"ModelName {model_name!r}: {err}") from None
    container: dict[str, Any] = dict(model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0])
    package = container.get("ModelPackageName")
    if package:
        spec = sagemaker.describe_model_package(ModelPackageName=package)["InferenceSpecification"]
        container = {**spec["Containers"][0], **{k: v for k, v in container.items() if k == "Environment"}}
    if not container.get("ModelDataUrl"):
        raise StepFailedError(f"model {model_name!r} has no ModelDataUrl (nothing to load)")
    return container


def run_transform(job: JobContext, request: Mapping[str, Any]) -> dict[str, Any]:
    """Run the job (request expressions resolved); returns its DescribeTransformJob-shaped properties.

    Raises:
        StepFailedError: the model cannot load or answers an error, a setting or record the local
            run cannot honour; ``properties`` then carries ``TransformJobStatus`` Failed and the reason.
    """
    identity = {"TransformJobName": job.job_name, "TransformJobArn": job.arn("transform-job")}
    request = checked_request(job.aws, job.job_name, request)
    try:
        outputs = _transform(job, request)
    except (StepFailedError, TransformRecordError) as err:
        raise StepFailedError(
            str(err),
            properties={**identity, "TransformJobStatus": "Failed", "FailureReason": str(err)[:1024]},
        ) from None
    job.notes.append(f"{len(outputs)} object(s) transformed: {', '.join(outputs)}")
    return {
        **identity,
        "TransformJobStatus": "Completed",
        "ModelName": request["ModelName"],
        "TransformInput": dict(request["TransformInput"]),
        "TransformOutput": dict(request["TransformOutput"]),
        "TransformResources": dict(request.get("TransformResources", {})),
    }


def checked_request(aws: LocalAws, job_name: str, request: Mapping[str, Any]) -> dict[str, Any]:
    """``request`` rendered as SageMaker sends it, checked against botocore's CreateTransformJob.

    Raises:
        StepFailedError: a field the API does not know, or of the wrong type (botocore's message).
    """
    shape: Any = aws.client("sagemaker").meta.service_model.operation_model("CreateTransformJob").input_shape
    rendered: dict[str, Any] = render(dict(request), shape)
    try:
        validate_parameters({**rendered, "TransformJobName": job_name}, shape)
    except ParamValidationError as err:
        raise StepFailedError(f"the CreateTransformJob request is invalid: {err}") from None
    return rendered


def _transform(job: JobContext, request: Mapping[str, Any]) -> list[str]:
    _note_settings(job, request)
    settings = _Settings(request)
    container = model_container(job.aws, request["ModelName"])
    model_dir = job.local(MODEL_DIR)
    archive = job.step_dir / "model.tar.gz"
    job.aws.download_object(container["ModelDataUrl"], archive)
    model_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(model_dir, filter="data")
    source = request["TransformInput"]["DataSource"]["S3DataSource"]
    if source.get("S3DataType", "S3Prefix") != "S3Prefix":
        raise StepFailedError(f"S3DataType {source['S3DataType']!r} cannot run locally (only S3Prefix)")
    objects = job.aws.list_prefix(source["S3Uri"])
    if not objects:
        raise StepFailedError(f"no objects under {source['S3Uri']}")
    bucket = source["S3Uri"][len("s3://") :].split("/", 1)[0]
    model = ModelProcess(job, {**container.get("Environment", {}), **request.get("Environment", {})})
    written = []
    try:
        for key, relative in objects:
            body = job.aws.read_object(f"s3://{bucket}/{key}")
            text = "".join(settings.transform(model, body, relative))
            out_bucket, out_key = split_s3_uri(
                f"{settings.output_path}/{relative}{contract.TRANSFORM_OUTPUT_SUFFIX}"
            )
            job.aws.ensure_bucket(out_bucket)
            job.aws.client("s3").put_object(Bucket=out_bucket, Key=out_key, Body=text.encode())
            written.append(f"{relative} ({text.count(chr(10))} lines)")
    finally:
        model.stop()
    return written


def _note_settings(job: JobContext, request: Mapping[str, Any]) -> None:
    resources = request.get("TransformResources", {})
    if int(resources.get("InstanceCount", 1)) > 1:
        job.notes.append(f"InstanceCount {resources['InstanceCount']}: one local model process")
    if int(request.get("MaxConcurrentTransforms", 1)) > 1:
        job.notes.append("MaxConcurrentTransforms: requests sent one at a time locally")
    if request["TransformOutput"].get("KmsKeyId") or resources.get("VolumeKmsKeyId"):
        job.notes.append("KMS keys: accepted, not applied (the stand-in does not encrypt)")
    if "BatchStrategy" not in request:
        job.notes.append("BatchStrategy unset: records sent as MultiRecord batches")


class _Settings:
    """How records are cut, batched, sent and assembled, from the request."""

    def __init__(self, request: Mapping[str, Any]) -> None:
        source, output = request["TransformInput"], request["TransformOutput"]
        processing = request.get("DataProcessing", {})
        self.split = source.get("SplitType", "None")
        self.gzip = source.get("CompressionType", "None") == "Gzip"
        self.content_type = source.get("ContentType", "")
        self.accept = output.get("Accept", "")
        self.strategy = request.get("BatchStrategy", "MultiRecord")
        self.max_mb = int(request.get("MaxPayloadInMB", 6))
        self.output_path = output["S3OutputPath"].rstrip("/")
        self.line = output.get("AssembleWith", "None") == "Line"
        self.input_filter = parse_filter(processing.get("InputFilter"), "InputFilter")
        self.output_filter = parse_filter(processing.get("OutputFilter"), "OutputFilter")
        self.join = processing.get("JoinSource", "None") == "Input"

    def transform(self, model: ModelProcess, body: bytes, relative: str) -> list[str]:
        """The output lines of one input object."""
        text = (gzip.decompress(body) if self.gzip else body).decode("utf-8")
        records = split_records(text, self.split)
        sent = [apply(self.input_filter, r) for r in records]
        out: list[str] = []
        per_record = self.join or self.output_filter is not None
        for indexes in batches(sent, self.strategy, self.max_mb, relative):
            payload = "".join(sent[i] + "\n" for i in indexes).encode("utf-8")
            status, answer = model.invoke(payload, self.content_type, self.accept)
            answer_text = answer.decode("utf-8", "replace")
            if not 200 <= status < 300:
                raise model.failed(f"{relative}: the model answered {status}: {answer_text.strip()[:500]}")
            if not per_record:
                out.append(answer_text if answer_text.endswith("\n") or not self.line else answer_text + "\n")
                continue
            answers = answer_text.splitlines()
            if len(answers) != len(indexes):
                raise StepFailedError(
                    f"{relative}: {len(indexes)} records sent, {len(answers)} lines answered "
                    "(JoinSource/OutputFilter need one answer line per record)"
                )
            for index, line in zip(indexes, answers, strict=True):
                joined = f"{records[index]},{line}" if self.join else line
                out.append(apply(self.output_filter, joined) + ("\n" if self.line else ""))
        return out
