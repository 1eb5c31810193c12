"""A content-addressed cache of the built definition, so a repeated synth skips the SDK import.

Importing the SageMaker SDK costs seconds (most of this app's synth time beyond CDK itself),
while the definition is a pure function of its inputs: the :class:`DefinitionProps`, the
pipeline name, the builder's own source (``stacks/pipeline/*.py``), the shared contract
(``ml_code/contract.py``) and the SDK version. The cache key hashes all of them, so any change
rebuilds; a hit returns the very bytes a build would produce (the builder is deterministic, and
a test pins cache hit == fresh build). Nothing here reads the clock, the environment or AWS.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Final

from stacks.pipeline.props import DefinitionProps

_PACKAGE_DIR: Final = Path(__file__).resolve().parent
_CONTRACT: Final = _PACKAGE_DIR.parent.parent / "ml_code" / "contract.py"


def cache_key(props: DefinitionProps, *, name: str) -> str:
    """Return the hex digest naming the definition ``props`` and ``name`` build to."""
    digest = hashlib.sha256()
    versions = (metadata.version("sagemaker"), metadata.version("botocore"))
    digest.update(repr((props, name, versions)).encode())
    for source in [*sorted(_PACKAGE_DIR.glob("*.py")), _CONTRACT]:
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()


def cached_definition(props: DefinitionProps, *, name: str, cache_dir: Path) -> str:
    """Return the definition JSON, from ``cache_dir`` when this exact input was built before.

    Raises:
        ValueError: the SDK rejects the pipeline (see ``definition.build_definition``).
    """
    entry = cache_dir / f"definition-{cache_key(props, name=name)}.json"
    if entry.is_file():
        text = entry.read_text(encoding="utf-8")
        try:
            json.loads(text)
            return text
        except ValueError:
            pass  # a damaged entry is rebuilt below
    from stacks.pipeline.definition import build_definition  # noqa: PLC0415 - the slow SDK import

    text = build_definition(props, name=name)
    cache_dir.mkdir(parents=True, exist_ok=True)
    temp = cache_dir / f".{entry.name}.{os.getpid()}.tmp"  # atomic for parallel synths
    temp.write_text(text, encoding="utf-8")
    temp.replace(entry)
    return text
