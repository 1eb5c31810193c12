"""Server tests unpack model archives into their own model cache, never the developer's."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_code.serving.model_cache import CACHE_ENV


@pytest.fixture(autouse=True)
def cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cache folder for this test (inherited by the servers it starts)."""
    root = tmp_path_factory.mktemp("model-cache")
    monkeypatch.setenv(CACHE_ENV, str(root))
    return root
