"""The smallest honest stand-ins for SageMaker operations moto 5.2.5 lacks.

moto has no ``UpdateEndpoint``. :func:`update_endpoint` takes the same request, validates it
against botocore's own service model (a wrong parameter name or type fails exactly as boto3
would fail it), checks through moto's API that the endpoint and the new endpoint config exist,
then points moto's endpoint at the new config. moto runs in this process (``mock_aws`` or
:func:`emulator.local_aws.moto_server`), so its backend is reachable directly.

moto drops ``CreateModelPackage``'s ``ModelCard`` (the card a version carries):
:func:`create_model_package` keeps it on moto's package, and ``DescribeModelPackage`` returns it
as SageMaker does. The card's content is not checked against its schema offline (SageMaker
checks it; the pipeline's card is checked against the SageMaker SDK's shapes in the tests).

What it does NOT emulate (``UpdateEndpoint``): blue/green traffic shifting (canary or linear
steps, wait intervals), the CloudWatch alarms watched during the rollout and the automatic
rollback they trigger, the ``Updating`` status,
``RetainAllVariantProperties``/``ExcludeRetainedVariantProperties`` (the new config's variants
simply replace the old ones) and ``DeploymentConfig`` itself (accepted, validated, then
ignored). The switch is instant and cannot fail once the checks pass.
"""

from __future__ import annotations

from typing import Any, cast

import botocore.session
from botocore.model import StructureShape
from botocore.validate import validate_parameters
from moto.core.utils import utcnow
from moto.sagemaker.models import ModelPackage, sagemaker_backends

SERVICE_MODEL = botocore.session.get_session().get_service_model("sagemaker")
UPDATE_ENDPOINT_SHAPE = cast(StructureShape, SERVICE_MODEL.operation_model("UpdateEndpoint").input_shape)


def update_endpoint(sagemaker: Any, account: str, **request: Any) -> dict[str, str]:
    """``UpdateEndpoint`` on moto: the endpoint serves ``request["EndpointConfigName"]`` from now on.

    Args:
        sagemaker: a boto3 SageMaker client talking to moto (in this process).
        account: the account moto stores the endpoint under (STS ``GetCallerIdentity``).
        request: the ``UpdateEndpoint`` parameters, as for ``client.update_endpoint(**request)``.

    Returns:
        ``{"EndpointArn": ...}``, as the API does.

    Raises:
        botocore.exceptions.ParamValidationError: the request does not fit the service model.
        botocore.exceptions.ClientError: the endpoint or the endpoint config does not exist.
    """
    validate_parameters(request, UPDATE_ENDPOINT_SHAPE)
    name = request["EndpointName"]
    sagemaker.describe_endpoint(EndpointName=name)  # ValidationException when missing
    config = sagemaker.describe_endpoint_config(EndpointConfigName=request["EndpointConfigName"])
    endpoint = sagemaker_backends[account][sagemaker.meta.region_name].endpoints[name]
    endpoint.endpoint_config_name = config["EndpointConfigName"]
    endpoint.production_variants = endpoint._process_production_variants(config["ProductionVariants"])
    endpoint.data_capture_config = config.get("DataCaptureConfig")
    endpoint.last_modified_time = utcnow()
    return {"EndpointArn": str(endpoint.arn)}


def create_model_package(sagemaker: Any, account: str, **request: Any) -> str:
    """``CreateModelPackage`` on moto, keeping the version's ``ModelCard``; returns the package ARN.

    Args:
        sagemaker: a boto3 SageMaker client talking to moto (in this process); it validates the
            request against botocore's model, ``ModelCard`` included.
        account: the account moto stores the package under.
        request: the ``CreateModelPackage`` parameters.
    """
    arn = str(sagemaker.create_model_package(**request)["ModelPackageArn"])
    if "ModelCard" in request:
        _describe_with_model_cards()
        backend = sagemaker_backends[account][sagemaker.meta.region_name]
        package = backend.describe_model_package(arn)
        package.model_card = dict(request["ModelCard"])  # type: ignore[attr-defined]
    return arn


def _describe_with_model_cards() -> None:
    """Make moto's DescribeModelPackage include a kept ``ModelCard`` (once per process)."""
    if getattr(ModelPackage, "_mlops_keeps_cards", False):
        return
    describe = ModelPackage.gen_response_object

    def gen_response_object(self: ModelPackage) -> dict[str, Any]:
        response: dict[str, Any] = describe(self)
        card = getattr(self, "model_card", None)
        if card is not None:
            response["ModelCard"] = card
        return response

    ModelPackage.gen_response_object = gen_response_object  # type: ignore[method-assign]
    ModelPackage._mlops_keeps_cards = True  # type: ignore[attr-defined]
