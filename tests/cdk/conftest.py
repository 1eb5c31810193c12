"""Shared CDK fixtures: the whole app from cdk.json, synthesized once per session.

Tests read templates from that one cloud assembly instead of re-synthesizing per test.
Variants (existing VPC, trimmed endpoints, prod) are built with ``synth_platform`` on demand.
"""

from __future__ import annotations

import pytest
from platform_synth import SynthesizedPlatform, synth_platform


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedPlatform:
    """The default environment of cdk.json, synthesized once for the whole session."""
    return synth_platform(tmp_path_factory.mktemp("cdk-out"))
