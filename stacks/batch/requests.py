"""The batch pipeline's own pieces beside :mod:`stacks.pipeline.requests` and ``steps``: the
``CreateModel`` and ``CreateTransformJob`` requests, the step that carries them, and the conditions
and command the training pipeline has no use for.

A ``Model`` step's arguments are a ``CreateModel`` request and a ``Transform`` step's a
``CreateTransformJob`` request, both without the name (SageMaker Pipelines names what it creates),
as the SageMaker Python SDK's ``_CreateModelStep`` and ``TransformStep`` write them. Their
properties follow ``DescribeModel`` / ``DescribeTransformJob`` (tests/unit/test_batch_definition.py
walks each reference through the SDK's typed properties and validates each request with botocore).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from ml_code import contract
from stacks.pipeline.expressions import Json, get
from stacks.pipeline.requests import JobSettings

MODEL: Final = "Model"
TRANSFORM: Final = "Transform"
#: What each step type's properties are read from (the SDK's shapes for them).
PROPERTY_SHAPES: Final = {MODEL: "DescribeModelOutput", TRANSFORM: "DescribeTransformJobResponse"}
#: The Transform job drops the input's first column (the row key) before the model sees a line.
WITHOUT_KEY: Final = "$[1:]"


@dataclass(frozen=True, kw_only=True)
class RequestStep:
    """A ``Model`` or ``Transform`` step built from an explicit API request."""

    name: str
    type: str
    description: str
    arguments: Json

    def __post_init__(self) -> None:
        if self.type not in PROPERTY_SHAPES:
            raise ValueError(f"a request step is {' or '.join(PROPERTY_SHAPES)}, got {self.type!r}")

    def model_name(self) -> Json:
        """The name SageMaker gave the model this ``Model`` step created.

        Raises:
            ValueError: this is not a Model step.
        """
        if self.type != MODEL:
            raise ValueError(f"step {self.name} is {self.type}, not Model: it creates no model")
        return get(f"Steps.{self.name}.ModelName")

    def output_path(self) -> Json:
        """The folder this ``Transform`` step wrote its ``<input>.out`` objects to.

        Raises:
            ValueError: this is not a Transform step.
        """
        if self.type != TRANSFORM:
            raise ValueError(f"step {self.name} is {self.type}, not Transform: it has no output path")
        return get(f"Steps.{self.name}.TransformOutput.S3OutputPath")

    def request(self) -> Json:
        request: Json = {"Name": self.name, "Type": self.type, "Arguments": self.arguments}
        if self.description:
            request["Description"] = self.description
        return request


def model_request(*, job: JobSettings, model_package_arn: Any) -> Json:
    """A ``CreateModel`` request (without ``ModelName``) serving a registered version, isolated in the VPC.

    The version's own container (image, ``model.tar.gz``, environment) comes from the package.
    """
    return {
        "ExecutionRoleArn": job.role_arn,
        "PrimaryContainer": {"ModelPackageName": model_package_arn},
        "VpcConfig": job.vpc_config(),
        "EnableNetworkIsolation": True,
    }


@dataclass(frozen=True, kw_only=True)
class TransformSettings:
    """How a Transform job batches and where it runs."""

    instance_type: str
    instance_count: int
    max_payload_mb: int
    max_concurrent_transforms: int


def transform_request(
    *,
    job: JobSettings,
    settings: TransformSettings,
    model_name: Any,
    input_uri: Any,
    output_uri: Any,
    output_filter: Any | None,
) -> Json:
    """A ``CreateTransformJob`` request (without ``TransformJobName``) over headerless CSV lines.

    Lines are packed into MultiRecord requests of at most ``max_payload_mb``; each input object's
    answers are assembled line for line into ``<output_uri><object>.out``, encrypted with the data
    key (volumes too). With ``output_filter`` (a key column) the key is cut off before the model
    (``$[1:]``), the input line joined back in front of its answer, and ``output_filter`` keeps the
    key and the predictions; without one the output is the answers as the model wrote them.
    """
    request: Json = {
        "ModelName": model_name,
        "MaxConcurrentTransforms": settings.max_concurrent_transforms,
        "MaxPayloadInMB": settings.max_payload_mb,
        "BatchStrategy": "MultiRecord",
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
            "ContentType": contract.CONTENT_TYPE_CSV,
            "CompressionType": "None",
            "SplitType": "Line",
        },
        "TransformOutput": {
            "S3OutputPath": output_uri,
            "Accept": contract.CONTENT_TYPE_CSV,
            "AssembleWith": "Line",
            "KmsKeyId": job.kms_key_arn,
        },
        "TransformResources": {
            "InstanceType": settings.instance_type,
            "InstanceCount": settings.instance_count,
            "VolumeKmsKeyId": job.kms_key_arn,
        },
    }
    if output_filter is not None:
        request["DataProcessing"] = {
            "InputFilter": WITHOUT_KEY,
            "OutputFilter": output_filter,
            "JoinSource": "Input",
        }
    return request


def equals(left: Any, right: Any) -> Json:
    """A condition: ``left == right`` (the SDK's ``ConditionEquals``)."""
    return {"Type": "Equals", "LeftValue": left, "RightValue": right}


def module_command(module: str, code_file: str, *, code_dir: str = contract.CODE_DIR) -> list[str]:
    """A processing job's entrypoint: unpack the source bundle in ``code_dir``, run ``python3 -m module``.

    :func:`stacks.pipeline.requests.step_command` runs a top-level shim of the bundle; a module run
    needs none, so scoring adds no part to the use cases' container contract (a use case whose code
    lacks the module fails its batch runs only, naming the module).
    """
    return ["/bin/sh", "-c", f'cd {code_dir} && tar -xzf {code_file} && exec python3 -m {module} "$@"', "sh"]


def execution_arn() -> Json:
    """The running execution's ARN (the SDK's ``ExecutionVariables.PIPELINE_EXECUTION_ARN``)."""
    return get("Execution.PipelineExecutionArn")


def names_are_unique(names: Sequence[str]) -> None:
    """Raises ValueError when two steps share a name (branches included)."""
    if len(names) != len(set(names)):
        raise ValueError(f"step names must be unique in a pipeline, got {list(names)}")
