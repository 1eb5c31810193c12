"""The SageMaker container contract every step's ``main()`` maps onto its pure functions.

- container paths (``/opt/ml/...``) re-rooted under ``$MLOPS_OPT_ML_ROOT`` when it is set,
  so the same step runs in SageMaker, in the offline runner and on a laptop;
- ``SM_*`` environment variables with container defaults;
- what SageMaker itself gives a training container: its hyperparameters file
  (:func:`read_hyperparameters`) and its channels (:func:`training_channel`);
- :func:`run_step`: the one wrapper that turns any failure into SageMaker's failure file
  (training: ``/opt/ml/output/failure``; processing: ``/opt/ml/output/message``) and exit 1.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, Final

from ml_code.contract import OPT_ML, OPT_ML_ROOT_ENV, TRAINING_CHANNEL_ROOT
from ml_code.errors import DataValidationError

LOG = logging.getLogger("ml_code")
#: SageMaker shows at most 1024 characters of a job's FailureReason.
MAX_FAILURE_CHARS: Final = 1024
#: SageMaker writes a training job's HyperParameters here (a JSON object of strings).
HYPERPARAMETERS_FILE: Final = "/opt/ml/input/config/hyperparameters.json"


def container_path(path: str) -> Path:
    """``path`` itself, or re-rooted under ``$MLOPS_OPT_ML_ROOT`` when set and under /opt/ml."""
    root = os.environ.get(OPT_ML_ROOT_ENV)
    pure = PurePosixPath(path)
    if not root or not pure.is_relative_to(OPT_ML):
        return Path(path)
    return Path(root).joinpath(*pure.relative_to(OPT_ML).parts)


def sm_env_path(var: str, default: str) -> Path:
    """Directory from SageMaker env var ``var`` (e.g. SM_MODEL_DIR), else the (re-rooted) default."""
    value = os.environ.get(var)
    return Path(value) if value else container_path(default)


def decode_hyperparameter(value: Any) -> Any:
    """``value`` JSON-decoded when it is a string holding JSON, else ``value`` itself.

    SageMaker passes every hyperparameter as a string; like the training toolkit, ``"5"``
    becomes 5, ``"0.1"`` 0.1, ``'"abc"'`` "abc", and ``"abc"`` stays "abc".
    """
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def read_hyperparameters(path: str = HYPERPARAMETERS_FILE) -> dict[str, Any]:
    """The job's hyperparameters from the (re-rooted) ``path``, each value decoded; {} without the file.

    Raises:
        DataValidationError: the file is not a JSON object.
    """
    target = container_path(path)
    if not target.is_file():
        return {}
    try:
        raw = json.loads(target.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise DataValidationError(f"{path} is not a JSON object of hyperparameters")
    return {str(name): decode_hyperparameter(value) for name, value in raw.items()}


def training_channel(name: str) -> Path:
    """The folder of input channel ``name``: ``$SM_CHANNEL_<NAME>`` when set, else the
    (re-rooted) ``/opt/ml/input/data/<name>`` where SageMaker downloads it.

    Raises:
        DataValidationError: the folder does not exist (the job has no channel ``name``);
            the message names the channel and its container path, not the local one.
    """
    var = f"SM_CHANNEL_{name.upper()}"
    shown = os.environ.get(var) or f"{TRAINING_CHANNEL_ROOT}/{name}"
    path = sm_env_path(var, f"{TRAINING_CHANNEL_ROOT}/{name}")
    if not path.is_dir():
        raise DataValidationError(
            f"input channel {name!r} is missing: {shown} does not exist "
            f"(the training job needs a channel named {name!r})"
        )
    return path


def configure_logging() -> None:
    """Log to stdout, which SageMaker ships to CloudWatch."""
    logging.basicConfig(
        level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def write_failure(failure_file: str, message: str) -> Path:
    """Write ``message`` (truncated to what SageMaker displays) to the re-rooted failure file."""
    target = container_path(failure_file)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(message[:MAX_FAILURE_CHARS], encoding="utf-8")
    return target


def run_step(step: Callable[[], None], failure_file: str) -> int:
    """Run ``step``; return 0, or write the failure file and return non-zero.

    DataValidationError (bad input) is reported with its message only; anything else also
    gets its traceback in the log, since it is a bug rather than bad data. Argument errors
    (argparse's SystemExit) keep their exit code and are reported too.
    """
    configure_logging()
    try:
        step()
    except DataValidationError as exc:
        LOG.error("invalid input: %s", exc)
        write_failure(failure_file, f"DataValidationError: {exc}")
        return 1
    except SystemExit as exc:
        if exc.code in (0, None):
            return 0
        write_failure(failure_file, f"invalid arguments (exit {exc.code}); see the job log for usage")
        return exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:
        LOG.error("step failed: %s\n%s", exc, "".join(traceback.format_exc(limit=8)))
        write_failure(failure_file, f"{type(exc).__name__}: {exc}")
        return 1
    return 0
