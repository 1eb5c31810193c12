"""Call a Python Lambda handler in this process, the way the Lambda runtime calls it.

JSON in, JSON out; the function's environment variables with boto3 pointed at the AWS
stand-in; its code folder first on the import path and its modules loaded afresh (and dropped
afterwards, as a cold start would find them); its prints and traceback in a log file. The
function's timeout and memory size are not enforced.
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

from emulator.jobs import StepFailedError
from emulator.local_aws import LocalAws


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
    timeout_seconds: int
    memory_limit_in_mb: int = 128
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        """The whole timeout: it is not enforced locally, so the clock never runs down."""
        return self.timeout_seconds * 1000


def invoke(function: LocalFunction, event: Any, aws: LocalAws, log_path: Path) -> Any:
    """Call the handler with `event` as Lambda would (JSON in, JSON out); returns its response.

    The handler's prints and its traceback, if it raises, go to `log_path`.

    Raises:
        StepFailedError: the function cannot run here (its `problem`), the handler cannot be
            found, it raised, or it returned something that is not JSON.
    """
    if function.problem or function.code_dir is None:
        raise StepFailedError(f"function {function.where} cannot run locally: {function.problem}")
    module_name, _, attribute = function.handler.rpartition(".")
    what = f"function {function.where} ({function.handler})"
    module_file = (
        function.code_dir / Path(*module_name.split(".")).with_suffix(".py") if module_name else None
    )
    if module_file is None or not module_file.is_file():
        raise StepFailedError(f"{what}: no module {module_name or function.handler!r} in {function.code_dir}")
    payload = json.loads(json.dumps(event))
    name = function.where.split("/")[-1]
    context = LambdaContext(name, function.arn, log_path.parent.name, function.timeout_seconds)
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
    prefix = f"{code}{os.sep}"
    dropped = {}
    for name, module in list(sys.modules.items()):
        location = getattr(module, "__file__", None) or ""
        if location.startswith(prefix) or name.split(".")[0] in tops:
            dropped[name] = sys.modules.pop(name)
    return dropped
