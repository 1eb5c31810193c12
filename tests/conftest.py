"""Suite-wide safety: no test can reach real AWS, and none writes outside its temp dirs.

Fake credentials and a fixed region are set before any test module imports boto3 or
the SageMaker SDK; a developer's own AWS profile is hidden. Served model archives are
unpacked into a cache of this run's own (not the developer's ~/.cache), removed at the end.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mlflow_server import MlflowServer

_SAFE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "SAGEMAKER_VALIDATE_ROLE": "false",
    "CDK_DISABLE_VERSION_CHECK": "1",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}
os.environ.update(_SAFE_ENV)
# The helpers every tier shares (mlflow_server, app_synth) are importable by name.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
for _var in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_var, None)
# ml_code.serving.model_cache reads it; server subprocesses inherit it.
_MODEL_CACHE = tempfile.mkdtemp(prefix="mlops-test-model-cache-")
os.environ["MLOPS_MODEL_CACHE"] = _MODEL_CACHE
atexit.register(shutil.rmtree, _MODEL_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def mlflow_shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """One local MLflow server for every module of this test process that needs one
    (tests/mlflow_server.py says why); started on first use, stopped at the end."""
    from mlflow_server import mlflow_server  # noqa: PLC0415 (imports mlflow: only where a test needs it)

    with mlflow_server(tmp_path_factory.mktemp("mlflow-shared")) as server:
        yield server


#: Modules that synthesize the same app variant (tests/cdk/platform_synth.py keeps each variant a
#: test process has synthesized): under make test's ``--dist loadfile`` one worker takes each group
#: whole, as it takes any other module whole, and synthesizes its app once.
SYNTH_GROUPS = {
    "cases-app": ("tests/cdk/test_use_cases.py", "tests/cdk/test_use_case_studio.py",
                  "tests/security/test_use_case_isolation.py"),
    "multi-account-app": ("tests/cdk/test_multi_account.py", "tests/cdk/test_multi_account_delivery.py",
                          "tests/cdk/test_stage_account.py"),
    "stage-org-app": ("tests/cdk/test_stage_events.py", "tests/cdk/test_stage_monitoring.py"),
}  # fmt: skip
_GROUP_OF = {module: group for group, modules in SYNTH_GROUPS.items() for module in modules}


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # pytest-xdist's hook; ours decides first
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile``, with each :data:`SYNTH_GROUPS` group scheduled as one module.

    (pytest-xdist's own ``xdist_group`` marks need ``--dist loadgroup``, which renames each test's
    node id; pytest 9 no longer lets it, and every test is then scheduled on its own.)
    """
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling  # noqa: PLC0415 - only when xdist runs the suite

    class SynthGroupScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = super()._split_scope(nodeid)
            return _GROUP_OF.get(module, module)

    return SynthGroupScheduling(config, log)
