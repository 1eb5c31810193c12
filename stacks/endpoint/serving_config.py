"""The endpoint config of one stage: variant, storage encryption and data capture.

Its name carries the model version and a fingerprint of its create-only properties
(:mod:`contracts.names`), so a new version, or a changed variant, capture or key, is a new
(immutable) config and the endpoint is *updated* to it, which is what runs the blue/green
deployment. A ``prod`` config is tagged with its stage so the guardrails hold it to the
redundancy rule (``SageMaker-EndpointRedundant``). ``_variant_values``/``_capture_values`` spell
out what ``_variant``/``_capture`` render, for the fingerprint; a test holds the two to each other.
A shadow variant (:mod:`stacks.endpoint.shadow`) and asynchronous inference
(:mod:`stacks.endpoint.async_inference`) add their properties, and their fingerprint, only when
set: a stage with neither renders (and is named) exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from contracts import layout
from contracts.config import StageConfig
from contracts.names import versioned_name
from ml_code import contract
from stacks.common.nag import acknowledge
from stacks.endpoint.async_inference import AsyncTopics, async_config, async_config_values
from stacks.endpoint.create_only import at_synth
from stacks.endpoint.shadow import shadow_variant, shadow_variant_values
from stacks.guardrails.endpoint_rules import STAGE_TAG

#: The single production variant every stage serves.
VARIANT: str = "AllTraffic"

_SERVERLESS_STORAGE = (
    "Serverless endpoints have no ML storage volume to encrypt and SageMaker rejects KmsKeyId on a "
    "serverless endpoint config; they cannot capture data either, so no payload rests on endpoint storage."
)


@dataclass(frozen=True, kw_only=True)
class ServingConfigProps:
    """The endpoint and version, the stage, the model to serve, the key, and the capture bucket."""

    endpoint_name: str
    version: int
    stage: StageConfig
    model: sagemaker.CfnModel
    key: kms.IKey
    #: Captured data goes to ``s3://<bucket>/data-capture``; SageMaker appends ``/<endpoint>/<variant>/...``.
    artifact_bucket: s3.IBucket
    #: The shadow variant's model (the stage's ``shadow`` section sizes it), or None.
    shadow_model: sagemaker.CfnModel | None = None
    #: The notification topics of an async stage (``stage.async_inference``), or None.
    async_topics: AsyncTopics | None = None


class ServingConfig(Construct):
    """``config``: a ``CfnEndpointConfig`` with one ``AllTraffic`` variant (instances or serverless).

    Attributes:
        capture_uri: ``s3://<artifact bucket>/data-capture`` (whether or not the stage captures).
        create_only: the config's create-only properties as known at synth (CloudFormation names).
        name: ``<endpoint>-v<version>-<fingerprint of create_only>``.

    Raises:
        ValueError: a serverless stage with data capture on (SageMaker cannot capture serverless).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: ServingConfigProps) -> None:
        super().__init__(scope, construct_id)
        stage = props.stage
        serverless = stage.serverless is not None
        if serverless and stage.data_capture_percent:
            raise ValueError(f"endpoint stage {stage.name!r}: serverless endpoints cannot capture data")
        bucket, key = props.artifact_bucket, props.key
        self.capture_uri = layout.capture_destination(bucket.bucket_name)
        # The model name as synth knows it; the property below refers to the model's attribute,
        # which is the same string and makes CloudFormation create the model first.
        self.create_only: dict[str, object] = {
            "ProductionVariants": [_variant_values(stage, props.model.model_name)],
            "KmsKeyId": None if serverless else at_synth(key.key_arn, key, "Arn"),
            "DataCaptureConfig": _capture_values(
                stage,
                layout.capture_destination(at_synth(bucket.bucket_name, bucket, "BucketName")),
                at_synth(key.key_arn, key, "Arn"),
            )
            if stage.data_capture_percent
            else None,
        }
        self.create_only.update(_mode_values(props))
        self.name = versioned_name(props.endpoint_name, props.version, self.create_only)
        self.config = sagemaker.CfnEndpointConfig(
            self,
            "Resource",
            endpoint_config_name=self.name,
            production_variants=[_variant(stage, props.model.attr_model_name)],
            kms_key_id=None if serverless else key.key_arn,
            data_capture_config=_capture(stage, self.capture_uri, key)
            if stage.data_capture_percent
            else None,
            tags=[cdk.CfnTag(key=STAGE_TAG, value=stage.name)],
            shadow_production_variants=_shadow(props),
            async_inference_config=_async(props),
        )
        if serverless:
            for rule in (
                "NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured",
                "SageMaker-EndpointConfigKms[KmsKeyId]",
            ):
                acknowledge(self.config, rule, _SERVERLESS_STORAGE)


def _shadow(props: ServingConfigProps) -> list[sagemaker.CfnEndpointConfig.ProductionVariantProperty] | None:
    """The ``ShadowProductionVariants`` (None: no shadow)."""
    if props.shadow_model is None or props.stage.shadow is None:
        return None
    return [shadow_variant(props.stage.shadow, props.shadow_model.attr_model_name)]


def _async(props: ServingConfigProps) -> sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty | None:
    """The ``AsyncInferenceConfig`` (None: real-time)."""
    if props.async_topics is None or props.stage.async_inference is None:
        return None
    return async_config(
        props.stage.async_inference, props.endpoint_name, props.artifact_bucket, props.key, props.async_topics
    )


def _mode_values(props: ServingConfigProps) -> dict[str, object]:
    """What :func:`_shadow` and :func:`_async` render, in CloudFormation's names (only when set)."""
    stage, values = props.stage, dict[str, object]()
    if props.shadow_model is not None and stage.shadow is not None:
        values["ShadowProductionVariants"] = [
            shadow_variant_values(stage.shadow, props.shadow_model.model_name)
        ]
    if props.async_topics is not None and stage.async_inference is not None:
        values["AsyncInferenceConfig"] = async_config_values(
            stage.async_inference, props.endpoint_name, props.artifact_bucket, props.key, props.async_topics
        )
    return values


def _variant(stage: StageConfig, model_name: str) -> sagemaker.CfnEndpointConfig.ProductionVariantProperty:
    if stage.serverless is not None:
        return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=VARIANT,
            model_name=model_name,
            serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                memory_size_in_mb=stage.serverless.memory_size_mb,
                max_concurrency=stage.serverless.max_concurrency,
            ),
        )
    return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
        variant_name=VARIANT,
        model_name=model_name,
        instance_type=stage.instance_type,
        initial_instance_count=stage.instance_count,
        initial_variant_weight=1.0,
    )


def _variant_values(stage: StageConfig, model_name: str | None) -> dict[str, object]:
    """What :func:`_variant` renders, in CloudFormation's names (for the fingerprint)."""
    if stage.serverless is not None:
        return {
            "VariantName": VARIANT,
            "ModelName": model_name,
            "ServerlessConfig": {
                "MemorySizeInMB": stage.serverless.memory_size_mb,
                "MaxConcurrency": stage.serverless.max_concurrency,
            },
        }
    return {
        "VariantName": VARIANT,
        "ModelName": model_name,
        "InstanceType": stage.instance_type,
        "InitialInstanceCount": stage.instance_count,
        "InitialVariantWeight": 1.0,
    }


def _capture_values(stage: StageConfig, uri: str, key_arn: str) -> dict[str, object]:
    """What :func:`_capture` renders, in CloudFormation's names (for the fingerprint)."""
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": stage.data_capture_percent,
        "DestinationS3Uri": uri,
        "KmsKeyId": key_arn,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {
            "CsvContentTypes": [contract.CONTENT_TYPE_CSV],
            "JsonContentTypes": [contract.CONTENT_TYPE_JSON, contract.CONTENT_TYPE_JSONLINES],
        },
    }


def _capture(
    stage: StageConfig, uri: str, key: kms.IKey
) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty:
    return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
        enable_capture=True,
        initial_sampling_percentage=stage.data_capture_percent,
        destination_s3_uri=uri,
        kms_key_id=key.key_arn,
        capture_options=[
            sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input"),
            sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Output"),
        ],
        capture_content_type_header=sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
            csv_content_types=[contract.CONTENT_TYPE_CSV],
            json_content_types=[contract.CONTENT_TYPE_JSON, contract.CONTENT_TYPE_JSONLINES],
        ),
    )
