"""Deploy a synthesized endpoint stack to the local AWS stand-in (model, endpoint config, endpoint).

:func:`deploy_endpoint_stack` applies a stack's ``AWS::SageMaker::Model``, ``::EndpointConfig``
and ``::Endpoint`` resources, as synthesized, to moto: properties are resolved with
:meth:`emulator.cfn.Assembly.resolve`, fitted to the ``Create*`` API's botocore input shape
(CloudFormation-only properties are dropped and listed, strings become the numbers and booleans
the shape asks for) and validated against it before the call. Models and endpoint configs are
immutable: one that already exists under its name is kept (the endpoint stack names them
``<endpoint>-v<version>-<fingerprint of their create-only properties>``, see
``contracts.names``, so a new version or a changed variant is a new name). An existing
endpoint is updated to the new config through :func:`emulator.sagemaker_fakes.update_endpoint`
(moto lacks ``UpdateEndpoint``; see that module for what it does not emulate).

A stack whose cloud-assembly environment names an account is deployed *in that account*, as
``cdk deploy`` would: with the credentials of the role the manifest says the CLI assumes (the
account's CDK bootstrap deploy role), which moto keys the resources by. An env-agnostic stack
goes where the given credentials act, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, cast

from botocore.exceptions import ClientError, ParamValidationError
from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.validate import validate_parameters

from emulator.cfn import Assembly
from emulator.intrinsics import substitute_pseudo
from emulator.local_aws import LocalAws
from emulator.sagemaker_fakes import SERVICE_MODEL, update_endpoint
from emulator.standins import REGION

#: CloudFormation type -> (Create operation, name parameter, Describe operation), in deploy order.
RESOURCES: Final = (
    ("AWS::SageMaker::Model", "CreateModel", "ModelName", "describe_model"),
    (
        "AWS::SageMaker::EndpointConfig",
        "CreateEndpointConfig",
        "EndpointConfigName",
        "describe_endpoint_config",
    ),
    ("AWS::SageMaker::Endpoint", "CreateEndpoint", "EndpointName", "describe_endpoint"),
)


class DeployError(RuntimeError):
    """The stack cannot be applied; the message names the resource and the problem."""


@dataclass(frozen=True)
class DeployResult:
    """What one deploy did."""

    stack: str
    endpoint_name: str
    endpoint_config_name: str
    #: "created Model demo-v1-<hex>", "kept EndpointConfig demo-v1-<hex>", "updated Endpoint demo", ...
    actions: tuple[str, ...]
    #: Whether an existing endpoint was switched to a new config.
    updated: bool
    #: "<logical id>.<property path>" of CloudFormation properties the API has no parameter for.
    dropped: tuple[str, ...]
    #: The account the resources were created in.
    account: str = ""
    #: The role the deploy acted as (None: the given credentials, for an env-agnostic stack).
    role_arn: str | None = None


def fit_to_shape(value: Any, shape: Shape, path: str, dropped: list[str]) -> Any:
    """``value`` restricted to ``shape``'s members (others appended to ``dropped``), with
    CloudFormation's string scalars converted to the shape's integer/float/boolean types.
    Empty strings (``AWS::NoValue`` once resolved) are removed, as CloudFormation removes them."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = cast(StructureShape, shape).members
        out = {}
        for key, item in value.items():
            if key not in members:
                dropped.append(f"{path}.{key}")
            elif item != "":
                out[key] = fit_to_shape(item, members[key], f"{path}.{key}", dropped)
        return out
    if kind == "list" and isinstance(value, list):
        member = cast(ListShape, shape).member
        return [fit_to_shape(item, member, f"{path}[{i}]", dropped) for i, item in enumerate(value)]
    if kind == "map" and isinstance(value, dict):
        values = cast(MapShape, shape).value
        return {k: fit_to_shape(v, values, f"{path}.{k}", dropped) for k, v in value.items()}
    return _scalar(value, kind)


def _scalar(value: Any, kind: str) -> Any:
    """CloudFormation renders numbers and booleans as strings at times; the API wants types."""
    if not isinstance(value, str):
        return value
    if kind in ("integer", "long"):
        return int(value)
    if kind in ("float", "double"):
        return float(value)
    return value.lower() == "true" if kind == "boolean" else value


def _exists(client: Any, describe: str, name_param: str, name: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = getattr(client, describe)(**{name_param: name})
    except ClientError:
        return None
    return found


def deploying_as(assembly: Assembly, stack_name: str, aws: LocalAws) -> LocalAws:
    """``aws`` acting where ``stack_name`` deploys: as its deploy role (or, when the manifest names
    none, the stand-in's role) in the account its environment names; ``aws`` itself when the stack
    is env-agnostic.

    Raises:
        DeployError: the stack's environment names a region other than the stand-in's.
    """
    target = assembly.target(stack_name)
    if target.region is not None and target.region != REGION:
        raise DeployError(
            f"stack {stack_name!r} deploys to region {target.region}; the stand-in runs one region, "
            f"{REGION} (name it as the environment's region to run offline)"
        )
    if target.account is None:
        return aws
    if target.deploy_role_arn is None:
        return aws.in_account(target.account)
    role = substitute_pseudo(target.deploy_role_arn, account=target.account)
    return aws.assume_role(role, session_name=f"deploy-{stack_name}"[:64])


def _request(
    assembly: Assembly,
    stack: str,
    logical_id: str,
    resource: dict[str, Any],
    *,
    operation: str,
    name_param: str,
    dropped: list[str],
) -> dict[str, Any]:
    """The resource's resolved properties as the ``operation`` request, checked against its shape."""
    # Each operation in RESOURCES takes parameters, so it has an input shape.
    shape = cast(StructureShape, SERVICE_MODEL.operation_model(operation).input_shape)
    where = f"{stack}.{logical_id}"
    properties = assembly.resolve(stack, resource.get("Properties", {}), where)
    request: dict[str, Any] = fit_to_shape(properties, shape, logical_id, dropped)
    request[name_param] = assembly.resolve(stack, {"Ref": logical_id}, where)
    try:
        validate_parameters(request, shape)
    except ParamValidationError as exc:
        raise DeployError(f"{where}: the resolved {operation} request is invalid: {exc}") from None
    return request


def deploy_endpoint_stack(assembly: Assembly, stack_name: str, aws: LocalAws) -> DeployResult:
    """Create (or update) the stack's SageMaker model(s), endpoint config(s) and its one endpoint,
    in the account the stack's environment names (see :func:`deploying_as`).

    Raises:
        DeployError: the stack is not in the assembly, has not exactly one endpoint, names another
            region, or a resolved request does not fit the API (the message names the resource).
    """
    if stack_name not in assembly.templates:
        raise DeployError(f"stack {stack_name!r} is not in the assembly ({sorted(assembly.templates)})")
    aws = deploying_as(assembly, stack_name, aws)
    client = aws.client("sagemaker")
    endpoints = [r for r in assembly.resources_of_type("AWS::SageMaker::Endpoint") if r[0] == stack_name]
    if len(endpoints) != 1:
        raise DeployError(f"stack {stack_name!r} has {len(endpoints)} AWS::SageMaker::Endpoint, expected 1")
    actions: list[str] = []
    dropped: list[str] = []
    updated = False
    request: dict[str, Any] = {}
    for cfn_type, operation, name_param, describe in RESOURCES:
        kind = cfn_type.rsplit("::", 1)[-1]
        for stack, logical_id, resource in assembly.resources_of_type(cfn_type):
            if stack != stack_name:
                continue
            request = _request(
                assembly,
                stack,
                logical_id,
                resource,
                operation=operation,
                name_param=name_param,
                dropped=dropped,
            )
            name = request[name_param]
            current = _exists(client, describe, name_param, name)
            if current is None:
                getattr(client, describe.replace("describe_", "create_"))(**request)
                actions.append(f"created {kind} {name}")
            elif cfn_type != "AWS::SageMaker::Endpoint":
                actions.append(f"kept {kind} {name} (exists; immutable)")
            elif current["EndpointConfigName"] == request["EndpointConfigName"]:
                actions.append(f"kept {kind} {name} (already on {request['EndpointConfigName']})")
            else:
                update = {k: request[k] for k in ("EndpointName", "EndpointConfigName", "DeploymentConfig")
                          if k in request}  # fmt: skip
                account = aws.client("sts").get_caller_identity()["Account"]
                update_endpoint(client, account, **update)
                change = f"{current['EndpointConfigName']} -> {update['EndpointConfigName']}"
                actions.append(f"updated {kind} {name}: {change}")
                updated = True
    return DeployResult(
        stack=stack_name,
        endpoint_name=request["EndpointName"],
        endpoint_config_name=request["EndpointConfigName"],
        actions=tuple(actions),
        updated=updated,
        dropped=tuple(dropped),
        account=aws.account,
        role_arn=aws.role_arn,
    )
