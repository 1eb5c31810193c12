"""The endpoint config of one stage: variant, storage encryption and data capture.

Its name carries the model version, so a new version is a new (immutable) config and the endpoint
is *updated* to it, which is what runs the blue/green deployment. A ``prod`` config is tagged with
its stage so the guardrails hold it to the redundancy rule (``SageMaker-EndpointRedundant``).
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ml_code import contract
from stacks.config_release import StageConfig
from stacks.constructs.nag import acknowledge
from stacks.guardrails.endpoint_rules import STAGE_TAG

#: The single production variant every stage serves.
VARIANT: str = "AllTraffic"

_SERVERLESS_STORAGE = (
    "Serverless endpoints have no ML storage volume to encrypt and SageMaker rejects KmsKeyId on a "
    "serverless endpoint config; they cannot capture data either, so no payload rests on endpoint storage."
)


@dataclass(frozen=True, kw_only=True)
class ServingConfigProps:
    """The stage, the model to serve, the key, and where captured data goes."""

    name: str
    stage: StageConfig
    model_name: str
    key: kms.IKey
    #: ``s3://<artifact bucket>/data-capture``; SageMaker appends ``/<endpoint>/<variant>/...``.
    capture_uri: str


class ServingConfig(Construct):
    """``config``: a ``CfnEndpointConfig`` with one ``AllTraffic`` variant (instances or serverless).

    Raises:
        ValueError: a serverless stage with data capture on (SageMaker cannot capture serverless).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: ServingConfigProps) -> None:
        super().__init__(scope, construct_id)
        stage = props.stage
        serverless = stage.serverless is not None
        if serverless and stage.data_capture_percent:
            raise ValueError(f"endpoint stage {stage.name!r}: serverless endpoints cannot capture data")
        self.config = sagemaker.CfnEndpointConfig(
            self,
            "Resource",
            endpoint_config_name=props.name,
            production_variants=[_variant(stage, props.model_name)],
            kms_key_id=None if serverless else props.key.key_arn,
            data_capture_config=_capture(stage, props.capture_uri, props.key)
            if stage.data_capture_percent
            else None,
            tags=[cdk.CfnTag(key=STAGE_TAG, value=stage.name)],
        )
        if serverless:
            for rule in (
                "NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured",
                "SageMaker-EndpointConfigKms[KmsKeyId]",
            ):
                acknowledge(self.config, rule, _SERVERLESS_STORAGE)


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
