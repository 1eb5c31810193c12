"""Start the image's serving stack on loopback: ``.venv-contract/bin/python toolkit_serve.py``.

Does what the image's ``serve`` does (``sagemaker_xgboost_container.serving.serving_entrypoint``):
``OMP_NUM_THREADS=1`` unless set, then the toolkit's ``server.start(ServingEnv().framework_module)``,
with ``SAGEMAKER_SERVING_MODULE=toolkit_serving:main`` (our stand-in for the image's
``serving:main``). ``server.start`` installs the user module (copies SAGEMAKER_SUBMIT_DIRECTORY to
the code dir and ``pip install``s it, as in the image) and builds gunicorn's command line; this
script takes that command line as built, changes only the bind address from ``0.0.0.0:<port>``
to ``127.0.0.1:<port>`` (a test must not listen on every interface), and execs it.

Without nginx (``SAGEMAKER_USE_NGINX=false``, a toolkit setting): the image puts nginx in front,
a pass-through proxy on port 8080 (``nginx.conf.template``: no body limit, the model server's
timeout) that answers nothing itself for the requests the tier sends.
"""

import contextlib
import os
import sys
import types

from sagemaker_containers import _server
from sagemaker_containers.beta.framework import env


class _CommandBuiltError(Exception):
    """Raised in place of starting gunicorn, once its command line is known."""


def gunicorn_command() -> list:
    """The command ``server.start`` runs, the user module already installed by it."""
    commands = []

    def record(argv, *args, **kwargs):  # type: ignore[no-untyped-def]
        commands.append(list(argv))
        raise _CommandBuiltError

    # Only the server module's view of subprocess changes: pip (run by the toolkit's module
    # installer through its own process helpers) still runs for real.
    _server.subprocess = types.SimpleNamespace(Popen=record)
    with contextlib.suppress(_CommandBuiltError):
        _server.start(env.ServingEnv().framework_module)
    if len(commands) != 1 or commands[0][0] != "gunicorn":
        sys.exit(f"toolkit_serve: expected one gunicorn command from server.start, got {commands}")
    return commands[0]


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    command = gunicorn_command()
    bind = command.index("-b") + 1
    command[bind] = command[bind].replace("0.0.0.0:", "127.0.0.1:")
    print("toolkit_serve:", " ".join(command), flush=True)
    os.execvp(command[0], command)  # gunicorn from .venv-contract/bin (PATH)


if __name__ == "__main__":
    main()
