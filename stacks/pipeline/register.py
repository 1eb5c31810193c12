"""The ``CreateModelPackage`` request of the pipeline's register step.

Written out rather than produced by ``ModelBuilder.register()``: the SDK helper resolves images,
may repack or upload the model, and needs a live session, none of which a synth can do. Here the
model version carries everything a reviewer and the deploy side need: the serving container
(same image as training, ``inference.py`` from the source bundle), the evaluation report as
model-quality metrics, and the training-data baseline as both data-quality metrics and drift
check baselines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ml_code import contract

APPROVAL_STATUS: Final = "PendingManualApproval"
JSON: Final = "application/json"


def model_package_request(
    *,
    group_name: str,
    image_uri: str,
    region: str,
    model_data: Any,
    evaluation_uri: Any,
    statistics_uri: Any,
    constraints_uri: Any,
    endpoint_instance_type: str,
    metadata: Mapping[str, Any],
    model_card: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the ``CreateModelPackage`` request for a new version in ``group_name`` (with
    ``model_card``, the version carries that ``ModelCard``)."""
    baseline = {
        "Statistics": {"ContentType": JSON, "S3Uri": statistics_uri},
        "Constraints": {"ContentType": JSON, "S3Uri": constraints_uri},
    }
    request: dict[str, Any] = {
        "ModelPackageGroupName": group_name,
        "ModelApprovalStatus": APPROVAL_STATUS,
        "InferenceSpecification": {
            "Containers": [
                {
                    "Image": image_uri,
                    "ModelDataUrl": model_data,
                    "Environment": {
                        "SAGEMAKER_PROGRAM": contract.SERVING_PROGRAM,
                        # Inside model.tar.gz (train.py puts it there): endpoints run with
                        # network isolation and could not download code from S3.
                        "SAGEMAKER_SUBMIT_DIRECTORY": contract.MODEL_CODE_CONTAINER_DIR,
                        # The toolkit's own default, stated so no image change can move it:
                        # a request without Accept (or with */*) is answered in JSON.
                        contract.DEFAULT_ACCEPT_ENV: contract.DEFAULT_ACCEPT,
                        "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
                        "SAGEMAKER_REGION": region,
                    },
                }
            ],
            "SupportedContentTypes": list(contract.SUPPORTED_CONTENT_TYPES),
            "SupportedResponseMIMETypes": list(contract.SUPPORTED_CONTENT_TYPES),
            "SupportedRealtimeInferenceInstanceTypes": [endpoint_instance_type],
            "SupportedTransformInstanceTypes": [endpoint_instance_type],
        },
        "ModelMetrics": {
            "ModelQuality": {"Statistics": {"ContentType": JSON, "S3Uri": evaluation_uri}},
            "ModelDataQuality": baseline,
        },
        "DriftCheckBaselines": {"ModelDataQuality": baseline},
        "CustomerMetadataProperties": dict(metadata),
    }
    if model_card is not None:
        request["ModelCard"] = dict(model_card)
    return request
