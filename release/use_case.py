"""The use-case factory: add a use case to an environment in ``cdk.json``, or remove one (issue 18).

``python -m release.use_case add --name fraud --target is_fraud --problem binary [--env dev]
[--input data/fraud/] [--cdk-json PATH]`` (``make use-case``) writes
``environments.<env>.useCases.<name>`` = ``{targetColumn, problemType[, inputPrefix]}`` and prints
the next steps with the use case's real names (:mod:`release.use_case_steps`).
``python -m release.use_case remove --name fraud [--env dev]`` (``make use-case-remove``, after
``cdk destroy`` of its stacks) deletes the entry and prints what its destroy retained.

The edited context is loaded with :func:`contracts.config.load_config` *before* anything is
written, so a refusal is the config's own message naming the key, exit 2, and ``cdk.json`` is left
as it was. The file is written atomically (a temporary file beside it, then ``os.replace``) in the
format it has (``json.dumps(indent=2)`` plus a newline, key order kept), so the diff is the entry.

Nothing else is scaffolded: a use case's stacks, names and pipeline defaults all derive from this
entry at synth, its code is the shared ``ml_code/``, its data can only go to its own artifact
bucket once that is deployed, and its approved-model files are written by the release tools.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from contracts.config import ConfigError, load_config
from contracts.config.loader import AppConfig
from contracts.config.use_cases import UseCase
from contracts.layout import DATA_PREFIX
from contracts.names import ResourceNameError, endpoint_name
from ml_code.contract import PROBLEM_TYPES
from release.use_case_steps import added_steps, removed_steps, stacks_pattern

#: The context keys app.py reads from cdk.json (the rest of the file is copied as it is).
CONTEXT_KEYS: Final = ("env", "project", "environments")
PROJECT_ROOT: Final = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, kw_only=True)
class NewUseCase:
    """What the factory writes: only the keys it knows (other settings are edited by hand)."""

    name: str
    target_column: str
    problem_type: str
    input_prefix: str | None = None
    #: Its CDK bootstrap qualifier (needed when its name is longer than a qualifier's 10 characters).
    bootstrap_qualifier: str | None = None

    def entry(self) -> dict[str, str]:
        """The ``useCases`` entry, in cdk.json's spelling (optional keys only when given)."""
        entry = {"targetColumn": self.target_column, "problemType": self.problem_type}
        if self.input_prefix is not None:
            entry["inputPrefix"] = self.input_prefix
        if self.bootstrap_qualifier is not None:
            entry["bootstrapQualifier"] = self.bootstrap_qualifier
        return entry


def read_document(path: Path) -> dict[str, Any]:
    """The whole of ``path`` (a cdk.json) as JSON.

    Raises:
        ConfigError: the file is missing, is not JSON, or has no ``context`` object.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("context"), dict):
        raise ConfigError(f"{path}: expected a JSON object with a 'context' object")
    return document


def _load(document: dict[str, Any], env: str) -> AppConfig:
    context = document["context"]
    return load_config({key: context[key] for key in CONTEXT_KEYS if key in context}, env)


def _use_cases(document: dict[str, Any], env: str) -> dict[str, Any]:
    """The environment's ``useCases`` object, created (last key, after the others) if unset."""
    settings = document["context"]["environments"][env]
    if settings.get("useCases") is None:
        settings["useCases"] = {}
    use_cases: dict[str, Any] = settings["useCases"]
    return use_cases


def with_use_case(document: dict[str, Any], env: str, new: NewUseCase) -> tuple[dict[str, Any], UseCase]:
    """A copy of ``document`` with ``new`` added to ``env``, and the use case as config resolves it.

    Raises:
        ConfigError: the file's config is invalid as it is, ``env`` is unknown, ``new`` exists
            already or is the project's own use case, or the edited config is invalid (the
            config's own message, naming the key); also when its endpoint names would be too long.
    """
    config = _load(document, env)  # an unknown env or a broken file is refused before any edit
    key = f"context key 'environments.{env}.useCases.{new.name}'"
    if new.name == config.project_name:
        raise ConfigError(
            f"{key}: {new.name!r} is the project's own use case (the primary, always there); "
            "add a use case with another name, or edit the primary's settings in cdk.json by hand"
        )
    edited = copy.deepcopy(document)
    use_cases = _use_cases(edited, env)
    if new.name in use_cases:
        raise ConfigError(
            f"{key} exists already ({json.dumps(use_cases[new.name])}): edit it in cdk.json, or "
            "remove it first (make use-case-remove)"
        )
    use_cases[new.name] = new.entry()
    case = next(case for case in _load(edited, env).use_cases if case.name == new.name)
    for stage in config.env.endpoints:
        try:
            endpoint_name(case.prefix, stage.name)
        except ResourceNameError as exc:
            raise ConfigError(f"{key}: {exc}, or choose a shorter use case name") from None
    return edited, case


def without_use_case(document: dict[str, Any], env: str, name: str) -> tuple[dict[str, Any], UseCase]:
    """A copy of ``document`` without use case ``name`` in ``env``, and the use case that was there.

    Raises:
        ConfigError: the config is invalid, ``env`` is unknown, or ``name`` is not an additional use
            case of ``env`` (the project's own use case cannot be removed).
    """
    config = _load(document, env)
    case = next((case for case in config.use_cases if case.name == name and not case.primary), None)
    if case is None:
        known = ", ".join(c.name for c in config.use_cases if not c.primary) or "none"
        raise ConfigError(
            f"context key 'environments.{env}.useCases.{name}': no such additional use case "
            f"(those of {env}: {known}; the project's own use case cannot be removed)"
        )
    edited = copy.deepcopy(document)
    settings = edited["context"]["environments"][env]
    del settings["useCases"][name]
    if not settings["useCases"]:
        del settings["useCases"]
    _load(edited, env)
    return edited, case


def write_atomically(path: Path, document: dict[str, Any]) -> None:
    """Replace ``path`` with ``document`` (indent 2, a final newline), never leaving half a file."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    mode = path.stat().st_mode & 0o777
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)  # mkstemp's 0600 would change who may read cdk.json
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m release.use_case",
        allow_abbrev=False,
        description="Add a use case to an environment in cdk.json, or remove one.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add environments.<env>.useCases.<name>")
    remove = commands.add_parser("remove", help="remove it (after cdk destroy of its stacks)")
    remove.add_argument(
        "--print-stacks", action="store_true", help="print the CDK pattern of its stacks, change nothing"
    )
    for sub in (add, remove):
        sub.add_argument("--name", required=True, help="use case name: 2-12 lowercase letters/digits")
        sub.add_argument("--env", default="dev", help="environment in cdk.json (default: dev)")
        sub.add_argument("--cdk-json", type=Path, default=None, help="default: the project's cdk.json")
    add.add_argument("--target", required=True, help="the label column of its data")
    add.add_argument("--problem", required=True, help=f"problem type: {', '.join(PROBLEM_TYPES)}")
    add.add_argument("--input", default=None, help=f"its data's folder under {DATA_PREFIX}, ending in /")
    add.add_argument("--qualifier", default=None, help="its CDK bootstrap qualifier (default: its name)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, root: Path = PROJECT_ROOT) -> int:
    """CLI entry point: 0 after writing cdk.json and printing the next steps; 2 with a one-line message."""
    args = parse_args(argv)
    path: Path = args.cdk_json or root / "cdk.json"
    try:
        document = read_document(path)
        if args.command == "add":
            new = NewUseCase(
                name=args.name,
                target_column=args.target,
                problem_type=args.problem,
                input_prefix=args.input,
                bootstrap_qualifier=args.qualifier,
            )
            edited, case = with_use_case(document, args.env, new)
            steps = added_steps(_load(edited, args.env), case)
        else:
            edited, case = without_use_case(document, args.env, args.name)
            if args.print_stacks:  # make use-case-remove destroys these before removing the entry
                print(stacks_pattern(case))
                return 0
            steps = removed_steps(_load(document, args.env), case)
    except ConfigError as exc:
        print(f"release.use_case: {exc}", file=sys.stderr)
        return 2
    write_atomically(path, edited)
    print("\n".join(steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
