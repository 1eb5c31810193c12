"""Lambda steps, run offline with the synthesized functions' own code.

:func:`functions_from` maps every ``AWS::Lambda::Function`` of a cloud assembly to a
:class:`LocalFunction`, keyed by the ARN its ``Fn::GetAtt … Arn`` resolves to — which is what a
resolved pipeline definition's ``FunctionArn`` holds. Its code is the asset folder in ``cdk.out``
that the template's ``Code.S3Bucket``/``S3Key`` names (found through the assets manifests), its
environment the resolved ``Environment.Variables``.

:func:`run_lambda_step` calls the handler in this process the way Lambda would: the step's
resolved Arguments as the JSON event, the function's environment with boto3 pointed at the
stand-in, the handler's modules loaded afresh from the asset folder (and dropped afterwards).
The declared output parameters, typed, become ``Steps.<name>.OutputParameters['<name>']``.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from offline.cfn import Assembly, IntrinsicError
from offline.definition import typed_value
from offline.jobs import StepFailedError
from offline.local_aws import LocalAws


@dataclass(frozen=True)
class LocalFunction:
    """One synthesized function: where its code is, how to call it, or why it cannot run here."""

    where: str
    arn: str
    handler: str
    environment: Mapping[str, str] = field(default_factory=dict)
    code_dir: Path | None = None
    timeout_seconds: int = 3
    #: why the function cannot run locally ("" when it can)
    problem: str = ""


@dataclass(frozen=True)
class LambdaContext:
    """The parts of Lambda's context object a handler commonly reads."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    memory_limit_in_mb: int = 128
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000  # the timeout is not enforced locally


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
    if function.problem or function.code_dir is None:
        raise StepFailedError(f"function {function.where} cannot run locally: {function.problem}")
    response = invoke(function, event, aws, log_path)
    return {"OutputParameters": output_parameters(step, response)}


def invoke(function: LocalFunction, event: Any, aws: LocalAws, log_path: Path) -> Any:
    """Call the handler with `event` as Lambda would (JSON in, JSON out); returns its response.

    The handler's prints and its traceback, if it raises, go to `log_path`.

    Raises:
        StepFailedError: the handler cannot be found, raised, or returned something that is not JSON.
    """
    assert function.code_dir is not None
    module_name, _, attribute = function.handler.rpartition(".")
    what = f"function {function.where} ({function.handler})"
    module_file = (
        function.code_dir / Path(*module_name.split(".")).with_suffix(".py") if module_name else None
    )
    if module_file is None or not module_file.is_file():
        raise StepFailedError(f"{what}: no module {module_name or function.handler!r} in {function.code_dir}")
    payload = json.loads(json.dumps(event))
    context = LambdaContext(function.where.split("/")[-1], function.arn, log_path.parent.name)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a") as log, _runtime(function, aws), redirect_stdout(log), redirect_stderr(log):
        try:
            response = getattr(importlib.import_module(module_name), attribute)(payload, context)
        except Exception as err:
            traceback.print_exc(file=log)
            raise StepFailedError(
                f"{what} raised {type(err).__name__}: {err} (traceback: {log_path})"
            ) from None
    try:
        return json.loads(json.dumps(response))
    except (TypeError, ValueError) as err:
        raise StepFailedError(f"{what} returned a response that is not JSON: {err}") from None


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


@contextmanager
def _runtime(function: LocalFunction, aws: LocalAws) -> Iterator[None]:
    """The function's environment, its code first on the path, a fresh boto3 session; all undone after."""
    assert function.code_dir is not None
    code = function.code_dir.resolve()
    saved_env, saved_path = dict(os.environ), list(sys.path)
    saved_session = boto3.DEFAULT_SESSION
    # Modules of the same names loaded from elsewhere step aside (and come back after).
    shadowed = _drop_modules(code)
    os.environ.clear()
    os.environ.update({k: v for k, v in saved_env.items() if not k.startswith("AWS_")})
    os.environ.update({**function.environment, **aws.step_environment()})
    os.environ["AWS_LAMBDA_FUNCTION_NAME"] = function.where.split("/")[-1]
    sys.path.insert(0, str(code))
    boto3.DEFAULT_SESSION = None  # a session made earlier holds other credentials and settings
    importlib.invalidate_caches()
    try:
        yield
    finally:
        _drop_modules(code)  # the next call loads the code afresh, as a cold start would
        sys.modules.update(shadowed)
        boto3.DEFAULT_SESSION = saved_session
        sys.path[:] = saved_path
        os.environ.clear()
        os.environ.update(saved_env)


def _drop_modules(code: Path) -> dict[str, Any]:
    """Remove from `sys.modules` what `code` holds or would shadow; returns what was removed."""
    tops = {p.stem for p in code.glob("*.py")} | {
        p.name for p in code.iterdir() if (p / "__init__.py").is_file()
    }
    dropped = {}
    for name, module in list(sys.modules.items()):
        location = getattr(module, "__file__", None) or ""
        inside = bool(location) and Path(location).resolve().is_relative_to(code)
        if inside or name.split(".")[0] in tops:
            dropped[name] = sys.modules.pop(name)
    return dropped
