"""The model container of a local batch transform job: the model's own serving code, one process.

Run as a script (``python transform_worker.py``), not as part of the ``emulator`` package: it
imports the model's ``code/`` folder first on ``sys.path`` (``SAGEMAKER_SUBMIT_DIRECTORY``), so
the ``ml_code`` it runs is the copy inside model.tar.gz, as in the container. Stdlib only.

What the XGBoost image's serving toolkit does, it does: imports ``SAGEMAKER_PROGRAM`` (``.py``
dropped), loads the model once with ``model_fn(<model dir>)``, then answers each request with
``transform_fn(model, body, content_type, accept)``; the body is text for exactly
``text/csv``/``application/json`` (UTF-8, bad bytes replaced), bytes otherwise; an empty or
``*/*`` Accept becomes ``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`` (else ``application/json``);
a ``(body, content_type)`` tuple is a 200. When the image's toolkit (``sagemaker_containers``)
is not installed, a stand-in for its ``worker.Response`` is, so ``transform_fn`` can build one.

Protocol on stdin/stdout (the job's log gets everything else, stdout prints included): after
loading, one line ``{"ready": true}``; then per request a JSON line
``{"content_type", "accept", "length"}`` followed by ``length`` body bytes, answered by a JSON
line ``{"status", "content_type", "length"}`` and the body. A model that cannot load writes
``{"ready": false, "error": ...}`` and exits 1.
"""

import importlib
import json
import os
import sys
import traceback
import types
from typing import Any, BinaryIO

TEXT_TYPES = ("application/json", "text/csv")


class Response:
    """The part of the toolkit's ``worker.Response`` (a Flask response) a transform_fn uses."""

    def __init__(
        self,
        response: Any = b"",
        status: int = 200,
        headers: Any = None,
        mimetype: Any = None,
        content_type: Any = None,
    ) -> None:
        self.status_code = int(status)
        self.headers = dict(headers or {})
        if content_type or mimetype:
            self.headers["Content-Type"] = content_type or mimetype
        self._body = response.encode("utf-8") if isinstance(response, str) else bytes(response or b"")

    def get_data(self) -> bytes:
        return self._body


def _install_toolkit_stand_in() -> None:
    """The image's toolkit when installed (said in the log), else the stand-in for its Response."""
    try:
        importlib.import_module("sagemaker_containers.beta.framework")
        print("serving toolkit: sagemaker_containers (the image's)", file=sys.stderr)
    except ImportError:
        print("serving toolkit: stand-in for sagemaker_containers' worker.Response", file=sys.stderr)
        names = ["sagemaker_containers", "sagemaker_containers.beta", "sagemaker_containers.beta.framework"]
        for name in names:
            sys.modules[name] = types.ModuleType(name)
        worker = types.ModuleType("sagemaker_containers.beta.framework.worker")
        worker.Response = Response  # type: ignore[attr-defined]
        sys.modules[worker.__name__] = worker
        sys.modules[names[-1]].worker = worker  # type: ignore[attr-defined]


def _answer(result: Any) -> tuple[int, str, bytes]:
    if isinstance(result, tuple):
        body, content_type = result
        return 200, str(content_type), body.encode("utf-8") if isinstance(body, str) else bytes(body)
    headers = getattr(result, "headers", {}) or {}
    content_type = headers.get("Content-Type") or getattr(result, "mimetype", "") or ""
    return int(result.status_code), str(content_type), bytes(result.get_data())


def _write(out: BinaryIO, head: dict[str, Any], body: bytes = b"") -> None:
    out.write(json.dumps(head).encode("utf-8") + b"\n" + body)
    out.flush()


def main() -> int:
    model_dir, code_dir = sys.argv[1], os.environ.get("SAGEMAKER_SUBMIT_DIRECTORY", "")
    program = os.environ.get("SAGEMAKER_PROGRAM", "inference.py")
    default_accept = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or "application/json"
    channel_in, channel_out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # the user code's prints go to the log, not into the protocol
    sys.path.insert(0, code_dir)
    _install_toolkit_stand_in()
    try:
        module = importlib.import_module(program[:-3] if program.endswith(".py") else program)
        model = module.model_fn(model_dir)
    except Exception as err:
        traceback.print_exc()
        _write(channel_out, {"ready": False, "error": f"{type(err).__name__}: {err}"})
        return 1
    _write(channel_out, {"ready": True})
    for line in iter(channel_in.readline, b""):
        head = json.loads(line)
        raw = channel_in.read(head["length"])
        content_type = head.get("content_type") or "application/json"
        accept = head.get("accept")
        body: Any = raw.decode("utf-8", "replace") if content_type in TEXT_TYPES else raw
        try:
            status, answer_type, answer = _answer(
                module.transform_fn(
                    model, body, content_type, accept if accept and accept != "*/*" else default_accept
                )
            )
        except Exception:  # the toolkit turns any raised exception into a bare 500
            traceback.print_exc()
            status, answer_type, answer = 500, "text/plain", b"Internal Server Error"
        _write(channel_out, {"status": status, "content_type": answer_type, "length": len(answer)}, answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
