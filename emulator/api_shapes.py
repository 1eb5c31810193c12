"""Render a step's resolved request the way SageMaker renders it into the API call.

Pipeline expressions resolve to typed values (a Boolean parameter is ``True``), but where the
API's field is a string — a container argument, an environment value, a hyperparameter —
SageMaker sends the parameter's text: ``true``/``false`` for Booleans, the digits for numbers.
The botocore service model says which fields are strings, so the same request that runs
locally is one the real API would accept.
"""

from __future__ import annotations

from typing import Any

#: The API operation each runnable step type's Arguments are the request of.
STEP_OPERATIONS = {
    "Processing": "CreateProcessingJob",
    "Training": "CreateTrainingJob",
    "RegisterModel": "CreateModelPackage",
    "Model": "CreateModel",
}


def as_text(value: Any) -> Any:
    """A scalar as SageMaker writes it into a string field (``true``, ``3``, ``0.5``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def render(value: Any, shape: Any) -> Any:
    """``value`` with every scalar that sits in a string field of ``shape`` turned into text.

    ``shape`` is a botocore shape (``None``: unknown, left as is); fields the shape does not
    know are left as they are, for the API to refuse.
    """
    if shape is None:
        return value
    kind = shape.type_name
    if kind == "string":
        return as_text(value)
    if kind == "structure" and isinstance(value, dict):
        return {key: render(item, shape.members.get(key)) for key, item in value.items()}
    if kind == "list" and isinstance(value, list):
        return [render(item, shape.member) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: render(item, shape.value) for key, item in value.items()}
    return value


def render_request(sagemaker: Any, step_type: str, request: Any) -> Any:
    """``request`` rendered for the operation of ``step_type`` (other step types: unchanged).

    ``sagemaker`` is a boto3 SageMaker client (only its service model is read).
    """
    operation = STEP_OPERATIONS.get(step_type)
    if operation is None:
        return request
    return render(request, sagemaker.meta.service_model.operation_model(operation).input_shape)
