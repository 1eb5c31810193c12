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
from emulator.local_aws import LocalAws, split_s3_uri
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
    model_package_group: str
    #: The account its stack's environment names (None: env-agnostic, the caller's account).
    account: str | None = None


def pipeline_from(assembly: Assembly, name_suffix: str | None = None) -> OfflinePipeline:
    """The assembly's `AWS::SageMaker::Pipeline` whose name ends with `name_suffix`, body resolved.

    Without `name_suffix`: the training pipeline (:data:`TRAINING_SUFFIX`), or the assembly's only
    pipeline whatever its name; :data:`contracts.names.DRIFT_CHECK_SUFFIX` picks the monitoring stack's.
    The body is a JSON string, possibly wrapped in `Fn::Sub`/`Fn::Join`; either way the
    resolved value is parsed as JSON.

    Raises:
        ProvisionError: no pipeline (or several) of that name, not exactly one model package
            group, or an unparsable body.
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
    groups = assembly.resources_of_type("AWS::SageMaker::ModelPackageGroup")
    if len(groups) != 1:
        raise ProvisionError(f"expected one model package group in the assembly, found {len(groups)}")
    role = props.get("RoleArn", f"arn:{PARTITION}:iam::{ACCOUNT}:role/offline")
    return OfflinePipeline(
        name=name,
        definition=definition,
        role_arn=str(assembly.resolve(stack, role, f"{where}.RoleArn")),
        model_package_group=str(assembly.resolve(groups[0][0], {"Ref": groups[0][1]})),
        account=assembly.target(stack).account,
    )


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
    sm = aws.in_account(pipeline.account).client("sagemaker")
    sm.create_model_package_group(
        ModelPackageGroupName=pipeline.model_package_group, ModelPackageGroupDescription="offline stand-in"
    )
    create_pipeline(aws.in_account(pipeline.account), pipeline)
    return uploaded


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


def upload_data(aws: LocalAws, pipeline: OfflinePipeline, data: Path) -> str:
    """Put `data` under the prefix the pipeline's input-data parameter defaults to; returns its URI."""
    parameter = next(
        (p for p in pipeline.definition.get("Parameters", []) if p["Name"] == INPUT_DATA_PARAMETER), None
    )
    if parameter is None or "DefaultValue" not in parameter:
        raise ProvisionError(f"the pipeline has no {INPUT_DATA_PARAMETER} parameter with a default")
    bucket, prefix = split_s3_uri(parameter["DefaultValue"])
    uri = f"s3://{bucket}/{prefix.rstrip('/')}/{data.name}"
    aws.upload_file(data, uri)
    return uri
