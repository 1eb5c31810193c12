"""No resource-name suffix or bucket prefix is spelled outside ``contracts/`` (one home; this test looks).

The scan reads every module of stacks/, release/, emulator/, demo/ and functions/ with ``ast``: string
constants (docstrings aside) and the literal parts of f-strings. A *name suffix*
(``contracts.names.SUFFIXES`` and each endpoint stage's ``-<stage>``, from cdk.json) is spelled when
a literal part right after an interpolation starts with it (``f"{prefix}-models"``), or a constant
starts with it (``"-training"``, ``prefix + "-models"``) or has it after ``}`` (``"{}-models"``).
A *bucket prefix* (every ``*_PREFIX`` of ``contracts.layout``) is spelled when a literal starts
with it, or with ``/`` or ``s3://<bucket>/`` and then it (``f"s3://{b}/data-capture"``); prose
naming one after a space is fine, and so is a bare word (``"data"`` is also a channel name).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts import layout, names

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("stacks", "release", "emulator", "demo", "functions")


def _stage_suffixes() -> list[str]:
    context = json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
    stages = {stage for env in context["environments"].values() for stage in env.get("endpoints", {})}
    return [f"-{stage}" for stage in sorted(stages)]


SUFFIXES = sorted({*names.SUFFIXES, *_stage_suffixes()})
PREFIXES = sorted(
    value for name, value in vars(layout).items() if name.endswith("_PREFIX") and isinstance(value, str)
)
#: A key's first folder: at a literal's start (``data/...``), right after an interpolated bucket
#: (``/data...``) or after ``s3://bucket/``; not a bare word (``"data"`` is also a channel name)
#: nor deeper in a path (``/opt/ml/output/data`` is a container path).
_PREFIX_RE = re.compile(
    "|".join(
        rf"^{folder}/|^(?:s3://[^/]*)?/{folder}(?:/|$)"
        for folder in (re.escape(prefix.rstrip("/")) for prefix in PREFIXES)
    )
)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _problems(text: str, *, after_interpolation: bool, in_fstring: bool) -> Iterator[str]:
    for suffix in SUFFIXES:
        if (after_interpolation or not in_fstring) and text.startswith(suffix):
            yield f"name suffix {suffix!r}"
        elif not in_fstring and "}" + suffix in text:
            yield f"name suffix {suffix!r} in a template"
    match = _PREFIX_RE.search(text)
    if match:
        yield f"bucket prefix {match.group(0).strip('/')!r}"


def spellings(source: str) -> list[tuple[int, str, str]]:
    """(line, literal, what) for every name suffix or bucket prefix spelled in ``source``."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found: list[tuple[int, str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            previous: ast.AST | None = None
            for part in node.values:
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    skip.add(id(part))
                    after = isinstance(previous, ast.FormattedValue)
                    found += [
                        (node.lineno, part.value, what)
                        for what in _problems(part.value, after_interpolation=after, in_fstring=True)
                    ]
                previous = part
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            found += [
                (node.lineno, node.value, what)
                for what in _problems(node.value, after_interpolation=False, in_fstring=False)
            ]
    return sorted(found)


def test_no_name_suffix_or_bucket_prefix_is_spelled_outside_contracts() -> None:
    # GIVEN every module of the packages that use names and prefixes (contracts/ and tests/ are exempt)
    modules = sorted(path for package in SCANNED for path in (ROOT / package).rglob("*.py"))
    assert len(modules) > 50
    # WHEN each is scanned
    found = [
        f"{path.relative_to(ROOT)}:{line}: {literal!r} spells a {what}; import it from contracts"
        for path in modules
        for line, literal, what in spellings(path.read_text(encoding="utf-8"))
    ]
    # THEN nothing outside contracts spells one
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        'name = f"{prefix}-models"',
        'stack = f"{p.prefix}-endpoint-{stage}"',
        'queue = f"{prefix}-monitoring-dlq"',
        'alarm = f"{endpoint}-drift"',
        'endpoint = f"{prefix}-prod"',
        'suffix = "-training"',
        'group = prefix + "-models"',
        'template = "{}-deploy"',
        'key = "pipeline-runs/" + run',
        'uri = f"s3://{bucket}/data-capture/{endpoint}/"',
        'uri = f"s3://{bucket}/data-capture"',
        'keys = [f"{bucket}/drift-checks/{y}"]',
        'uri = "s3://artifacts/pipeline-intermediates/run"',
        'arn = bucket.arn_for_objects("workspace/*")',
    ],
)
def test_the_scan_finds_a_spelled_name_or_prefix(source: str) -> None:
    assert spellings(source), source


@pytest.mark.parametrize(
    "source",
    [
        '"""Everything under ``pipeline-runs/`` and ``<prefix>-models`` is documented here."""',
        'reason = "Jobs write their outputs under pipeline-runs/<execution id>/."',
        'reason = f"Objects under {folder!r} of this project only"',
        'flag = "--endpoint-name"',
        'text = f"{count} records, {total}-record window"',
        'channel = rq.s3_input("data", uri, "/opt/ml/processing/input")',
        'path = f"{contract.OPT_ML}/output/data"',
        "name = names.model_package_group_name(prefix)",
    ],
)
def test_the_scan_leaves_prose_and_imports_alone(source: str) -> None:
    assert spellings(source) == []
