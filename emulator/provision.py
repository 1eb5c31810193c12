"""Stand up what a synthesized pipeline needs in the AWS stand-in.

From a cloud assembly: a pipeline definition (picked by name suffix) with its intrinsics
resolved, the buckets the templates declare, the CDK file assets at the keys the templates
name, the model package group, the pipelines themselves, and the training data at the
pipeline's input URI.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.names import TRAINING_SUFFIX
from emulator.cfn import Assembly
from emulator.local_aws import LocalAws
from emulator.standins import ACCOUNT, PARTITION

#: The pipeline parameter naming the raw data prefix (stacks/pipeline/parameters.py).
INPUT_DATA_PARAMETER = "InputDataUri"


class ProvisionError(RuntimeError):
    """The assembly lacks something the offline run needs; the message says what."""


@dataclass(frozen=True)
class OfflinePipeline:
    """The synthesized pipeline, resolved for the stand-in."""

    name: str
    definition: dict[str, Any]
    role_arn: str
    #: The group it registers in (None: it names none, and the assembly has several).
    model_package_group: str | None
    #: The account its stack's environment names (None: env-agnostic, the caller's account).
    account: str | None = None
    #: The local MLflow server its Track steps log to offline (:mod:`emulator.tracking_server`; on
    #: AWS the definition's tracking server ARN says where). None: no server is running.
    mlflow_url: str | None = None

    @property
    def group(self) -> str:
        """The group it registers in.

        Raises:
            ProvisionError: it registers in none (:attr:`model_package_group` is None).
        """
        if self.model_package_group is None:
            raise ProvisionError(f"{self.name} names no model package group, and the assembly has several")
        return self.model_package_group


def pipeline_from(assembly: Assembly, name_suffix: str | None = None) -> OfflinePipeline:
    """The assembly's `AWS::SageMaker::Pipeline` whose name ends with `name_suffix`, body resolved.

    Without `name_suffix`: the training pipeline (:data:`TRAINING_SUFFIX`), or the assembly's only
    pipeline whatever its name; :data:`contracts.names.DRIFT_CHECK_SUFFIX` picks the monitoring stack's.
    The body is a JSON string, possibly wrapped in `Fn::Sub`/`Fn::Join`; either way the
    resolved value is parsed as JSON.

    Its model package group is the one its definition names (the register step's, the gate's), or,
    for a pipeline that names none (the drift check), the assembly's only one; None when it names
    none and the assembly has several (one per use case).

    Raises:
        ProvisionError: no pipeline (or several) of that name, no model package group, a definition
            naming several, or an unparsable body.
    """
    stack, logical_id, name = _select(assembly, name_suffix)
    props = assembly.templates[stack]["Resources"][logical_id]["Properties"]
    where = f"{stack}/{logical_id}"
    body = props.get("PipelineDefinition", {}).get("PipelineDefinitionBody")
    if body is None:
        raise ProvisionError(f"{where}: only an inline PipelineDefinitionBody runs offline (no S3 location)")
    resolved = assembly.resolve(stack, body, f"{where}.PipelineDefinitionBody")
    try:
        definition = resolved if isinstance(resolved, dict) else json.loads(resolved)
    except json.JSONDecodeError as err:
        raise ProvisionError(f"{where}: the resolved definition body is not JSON: {err}") from None
    role = props.get("RoleArn", f"arn:{PARTITION}:iam::{ACCOUNT}:role/offline")
    return OfflinePipeline(
        name=name,
        definition=definition,
        role_arn=str(assembly.resolve(stack, role, f"{where}.RoleArn")),
        model_package_group=_group_of(assembly, definition, where),
        account=assembly.target(stack).account,
    )


def _group_of(assembly: Assembly, definition: dict[str, Any], where: str) -> str | None:
    """The model package group ``definition`` names (a string value equal to a group's name), else
    the assembly's only group, else None (see :func:`pipeline_from`)."""
    groups = assembly.resources_of_type("AWS::SageMaker::ModelPackageGroup")
    if not groups:
        raise ProvisionError("expected a model package group in the assembly, found 0")
    names = {str(assembly.resolve(stack, {"Ref": logical_id})) for stack, logical_id, _ in groups}
    named = sorted(names & set(_strings(definition)))
    if len(named) > 1:
        raise ProvisionError(
            f"{where}: the definition names several model package groups: {', '.join(named)}"
        )
    if named:
        return named[0]
    return names.pop() if len(names) == 1 else None


def _strings(value: Any) -> list[str]:
    """Every string value in a JSON document."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _select(assembly: Assembly, suffix: str | None) -> tuple[str, str, str]:
    """(stack, logical id, resolved name) of the pipeline `pipeline_from` means."""
    pipelines = assembly.resources_of_type("AWS::SageMaker::Pipeline")
    if not pipelines:
        raise ProvisionError("expected one AWS::SageMaker::Pipeline in the assembly, found 0")
    named: list[tuple[str, str, str]] = []
    for stack, logical_id, resource in pipelines:
        name = (resource.get("Properties") or {}).get("PipelineName", logical_id)
        named.append(
            (stack, logical_id, str(assembly.resolve(stack, name, f"{stack}/{logical_id}.PipelineName")))
        )
    wanted = suffix or TRAINING_SUFFIX
    matches = [p for p in named if p[2].endswith(wanted)]
    if suffix is None and not matches and len(named) == 1:
        matches = named
    if len(matches) != 1:
        raise ProvisionError(
            f"expected one AWS::SageMaker::Pipeline named *{wanted} in the assembly, found {len(matches)} "
            f"(its pipelines: {', '.join(sorted(p[2] for p in named))})"
        )
    return matches[0]


def create_pipeline(aws: LocalAws, pipeline: OfflinePipeline) -> None:
    """Create `pipeline` in the stand-in's pipeline API (so executions can be started and listed)."""
    # botocore fills ClientRequestToken (an idempotency token); the stubs call it required.
    aws.client("sagemaker").create_pipeline(  # type: ignore[call-arg]
        PipelineName=pipeline.name,
        PipelineDefinition=json.dumps(pipeline.definition),
        RoleArn=pipeline.role_arn,
    )


def provision(assembly: Assembly, aws: LocalAws, pipeline: OfflinePipeline) -> int:
    """Create the buckets, upload the file assets, create the group and the pipeline (in the
    pipeline stack's account when its environment names one; see :func:`upload_assets` for the rest).

    Returns the number of asset files uploaded.
    """
    uploaded = upload_assets(assembly, aws)
    register(aws, pipeline)
    return uploaded


def register(aws: LocalAws, pipeline: OfflinePipeline) -> None:
    """Create the pipeline's model package group and the pipeline (in its stack's account when its
    environment names one): another use case's, once :func:`provision` stood up the assembly."""
    sm = aws.in_account(pipeline.account).client("sagemaker")
    sm.create_model_package_group(
        ModelPackageGroupName=pipeline.group, ModelPackageGroupDescription="offline stand-in"
    )
    create_pipeline(aws.in_account(pipeline.account), pipeline)


def upload_assets(assembly: Assembly, aws: LocalAws) -> int:
    """Create the assembly's buckets and upload its file assets (as `cdk deploy` publishes them).

    Idempotent, so a later synthesis of the same app (e.g. with endpoint stacks) can be uploaded
    on top. Each bucket is created in its stack's account and each asset published as the role
    its destination names there; env-agnostic ones with ``aws`` as given. Returns the number of
    asset files uploaded.
    """
    for stack, logical_id, _ in assembly.resources_of_type("AWS::S3::Bucket"):
        owner = aws.in_account(assembly.target(stack).account)
        owner.ensure_bucket(assembly.resolve(stack, {"Ref": logical_id}))
    uploaded = 0
    for path, bucket, key, role_arn in assembly.asset_uploads():
        publisher = aws if role_arn is None else aws.assume_role(role_arn, "cdk-assets")
        if path.is_dir():
            # Directory assets are zipped by the CLI when it publishes them; do the same.
            with tempfile.TemporaryDirectory() as tmp:
                archive = shutil.make_archive(str(Path(tmp) / "asset"), "zip", path)
                publisher.upload_file(Path(archive), f"s3://{bucket}/{key}")
        elif path.is_file():
            publisher.upload_file(path, f"s3://{bucket}/{key}")
        else:
            raise ProvisionError(f"asset {path} listed in the assembly's *.assets.json does not exist")
        uploaded += 1
    return uploaded


def input_data_uri(pipeline: OfflinePipeline) -> str:
    """The prefix the pipeline's input-data parameter defaults to (in its use case's artifact bucket).

    Raises:
        ProvisionError: the pipeline has no such parameter with a default.
    """
    parameter = next(
        (p for p in pipeline.definition.get("Parameters", []) if p["Name"] == INPUT_DATA_PARAMETER), None
    )
    if parameter is None or "DefaultValue" not in parameter:
        raise ProvisionError(f"the pipeline has no {INPUT_DATA_PARAMETER} parameter with a default")
    return str(parameter["DefaultValue"])
