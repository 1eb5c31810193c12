"""Lambda steps of a pipeline definition, run with the synthesized functions' own code.

:func:`functions_from` maps every ``AWS::Lambda::Function`` of a cloud assembly to a
:class:`~emulator.lambda_runtime.LocalFunction`, keyed by the ARN its ``Fn::GetAtt … Arn``
resolves to — which is what a resolved pipeline definition's ``FunctionArn`` holds. Its code is
the asset folder in ``cdk.out`` that the template's ``Code.S3Bucket``/``S3Key`` names (found
through the assets manifests), its environment the resolved ``Environment.Variables``.

:func:`run_lambda_step` calls the step's function with the step's resolved Arguments as the
event (:mod:`emulator.lambda_runtime`); the declared output parameters, typed, become the step's
properties, ``Steps.<name>.OutputParameters['<name>']``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emulator.cfn import Assembly, IntrinsicError
from emulator.definition import typed_value
from emulator.jobs import StepFailedError
from emulator.lambda_runtime import LocalFunction, invoke
from emulator.local_aws import LocalAws

__all__ = [
    "LocalFunction",
    "function_by_id",
    "functions_from",
    "invoke",
    "output_parameters",
    "run_lambda_step",
]


def functions_from(assembly: Assembly) -> dict[str, LocalFunction]:
    """Every Lambda function of the assembly, by the ARN its `Fn::GetAtt … Arn` resolves to."""
    assets = {(bucket, key): path for path, bucket, key in assembly.asset_files()}
    found: dict[str, LocalFunction] = {}
    for stack, logical_id, resource in assembly.resources_of_type("AWS::Lambda::Function"):
        where = f"{stack}/{logical_id}"
        arn = str(assembly.resolve(stack, {"Fn::GetAtt": [logical_id, "Arn"]}, where))
        props = resource.get("Properties") or {}
        handler, timeout = str(props.get("Handler", "")), int(props.get("Timeout", 3))
        try:
            variables = assembly.resolve(
                stack, (props.get("Environment") or {}).get("Variables") or {}, where
            )
            code = assembly.resolve(stack, props.get("Code") or {}, f"{where}.Code")
        except IntrinsicError as err:
            found[arn] = LocalFunction(where, arn, handler, timeout_seconds=timeout, problem=str(err))
            continue
        code_dir, problem = _code_dir(str(props.get("Runtime", "")), code, assets)
        environment = {k: str(v) for k, v in variables.items()}
        found[arn] = LocalFunction(where, arn, handler, environment, code_dir, timeout, problem)
    return found


def _code_dir(
    runtime: str, code: Mapping[str, Any], assets: Mapping[tuple[str, str], Path]
) -> tuple[Path | None, str]:
    """(the function's code folder, "") or (None, why it cannot run locally)."""
    if not runtime.startswith("python"):
        return None, f"runtime {runtime or '(a container image)'} cannot run locally (only python)"
    if "S3Key" not in code:
        return None, "only code from a CDK asset runs locally (not inline ZipFile code)"
    path = assets.get((str(code.get("S3Bucket")), str(code["S3Key"])))
    if path is None or not path.is_dir():
        return (
            None,
            f"its code s3://{code.get('S3Bucket')}/{code['S3Key']} is no asset folder of the assembly",
        )
    return path, ""


def function_by_id(functions: Mapping[str, LocalFunction], prefix: str) -> LocalFunction:
    """The one function whose logical ID starts with `prefix` (CDK appends a hash: `RetrainTrigger…`).

    Raises:
        KeyError: no function, or several, match (the message lists them).
    """
    found = [f for f in functions.values() if f.where.split("/")[-1].startswith(prefix)]
    if len(found) != 1:
        listed = ", ".join(sorted(f.where for f in functions.values())) or "none"
        raise KeyError(
            f"expected one Lambda function {prefix}* in the assembly, found {len(found)}: {listed}"
        )
    return found[0]


def run_lambda_step(
    step: Mapping[str, Any],
    event: Any,
    functions: Mapping[str, LocalFunction],
    aws: LocalAws,
    log_path: Path,
) -> dict[str, Any]:
    """Invoke the step's function with `event`; returns the step's properties.

    Raises:
        StepFailedError: an unknown FunctionArn, a function that cannot run here, a handler that
            raised, or a response without the declared output parameters.
    """
    arn = step.get("FunctionArn")
    function = functions.get(arn) if isinstance(arn, str) else None
    if function is None:
        known = ", ".join(sorted(functions)) or "none (no functions were given to the runner)"
        raise StepFailedError(f"FunctionArn {arn!r} is not a function of the assembly; known: {known}")
    response = invoke(function, event, aws, log_path)
    return {"OutputParameters": output_parameters(step, response)}


def output_parameters(step: Mapping[str, Any], response: Any) -> dict[str, Any]:
    """The step's declared OutputParameters taken from `response`, typed as declared.

    Raises:
        StepFailedError: the response lacks one, or it has the wrong type.
    """
    declared = step.get("OutputParameters") or []
    if declared and not isinstance(response, dict):
        raise StepFailedError(
            f"the function returned {response!r}, but the step reads output parameters from it"
        )
    values: dict[str, Any] = {}
    for spec in declared:
        name, kind = spec["OutputName"], spec.get("OutputType", "String")
        if name not in response:
            raise StepFailedError(
                f"the function's response has no output parameter {name!r} (keys: {sorted(response)})"
            )
        try:
            values[name] = typed_value(kind, response[name])
        except (TypeError, ValueError):
            raise StepFailedError(
                f"output parameter {name!r} is {kind}, the function returned {response[name]!r}"
            ) from None
    return values
