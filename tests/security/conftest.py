"""Security fixtures: the whole platform synthesized once per session, with resolved policies.

Unlike ``tests/cdk``'s ``synthesized`` fixture this reads *every* stack of the cloud assembly,
the training pipeline's included (its execution role and definition are attack surface).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
# The repository root (for ``stacks``/``offline``) and tests/cdk (for ``platform_synth``), as
# pytest's rootdir-relative ``pythonpath`` setting would add them.
for _path in (_HERE.parents[1], _HERE.parent / "cdk", _HERE):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from access import Access  # noqa: E402
from platform_policies import PlatformPolicies  # noqa: E402
from platform_synth import synth_platform  # noqa: E402


@pytest.fixture(scope="session")
def access(tmp_path_factory: pytest.TempPathFactory) -> Access:
    """The default environment of cdk.json, synthesized once, as requests can be asked of it."""
    synthesized = synth_platform(tmp_path_factory.mktemp("security-cdk-out"))
    platform = PlatformPolicies.load(synthesized.outdir, synthesized.config.prefix)
    return Access(platform, synthesized.config)
