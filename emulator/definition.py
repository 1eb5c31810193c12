"""Read a pipeline definition: its steps (branches flattened), their dependencies, parameters.

A step runs after every step it refers to (`{"Get": "Steps.X..."}`, a property file of X),
every step in its `DependsOn`, and the condition step whose branch holds it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class PipelineDefinitionError(ValueError):
    """The definition itself is unusable (unknown parameter or step, cycle, duplicate name)."""


@dataclass(frozen=True)
class StepEntry:
    """One step of the definition, with the condition branch it sits in, if any."""

    step: Mapping[str, Any]
    #: the condition step whose IfSteps/ElseSteps hold this step
    parent: str | None
    #: True for IfSteps, False for ElseSteps
    branch: bool | None

    @property
    def name(self) -> str:
        return str(self.step["Name"])

    @property
    def type(self) -> str:
        return str(self.step["Type"])


def flatten(
    steps: Sequence[Mapping[str, Any]], parent: str | None = None, branch: bool | None = None
) -> list[StepEntry]:
    """Every step in definition order, condition branches inlined after their condition."""
    out: list[StepEntry] = []
    for step in steps:
        if not isinstance(step, Mapping) or "Name" not in step or "Type" not in step:
            raise PipelineDefinitionError(f"a step needs a Name and a Type, got {str(step)[:120]}")
        out.append(StepEntry(step, parent, branch))
        if step["Type"] == "Condition":
            arguments = step.get("Arguments", {})
            out += flatten(arguments.get("IfSteps", []), step["Name"], True)
            out += flatten(arguments.get("ElseSteps", []), step["Name"], False)
    return out


def references(value: Any) -> set[str]:
    """Names of the steps an expression tree refers to (condition branches excluded)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        get = value.get("Get")
        if len(value) == 1 and isinstance(get, str) and get.startswith("Steps."):
            found.add(get.split(".")[1])
        for key, item in value.items():
            if key not in ("IfSteps", "ElseSteps"):
                found |= references(item)
    return found


def dependencies(entries: list[StepEntry]) -> dict[str, set[str]]:
    """Step name -> the steps it must wait for.

    Raises:
        PipelineDefinitionError: duplicate step names, or a reference to an unknown step.
    """
    names = [e.name for e in entries]
    if len(set(names)) != len(names):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise PipelineDefinitionError(f"step names must be unique; repeated: {', '.join(duplicates)}")
    depends = {
        e.name: references(e.step.get("Arguments", {}))
        | set(e.step.get("DependsOn", []))
        | ({e.parent} if e.parent else set())
        for e in entries
    }
    for name, needs in depends.items():
        missing = needs - set(names)
        if missing:
            raise PipelineDefinitionError(
                f"step {name!r} refers to unknown step(s) {', '.join(sorted(missing))}"
            )
    _refuse_cycles(depends)
    return depends


def _refuse_cycles(depends: Mapping[str, set[str]]) -> None:
    """Raise naming the steps that wait on each other, as CreatePipeline refuses them up front."""
    done: set[str] = set()
    progress = True
    while progress:
        ready = {name for name, needs in depends.items() if name not in done and needs <= done}
        done |= ready
        progress = bool(ready)
    stuck = sorted(set(depends) - done)
    if stuck:
        raise PipelineDefinitionError(f"steps {', '.join(stuck)} wait on each other (a dependency cycle)")


def coerce_parameters(definition: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Parameter values: defaults overlaid with overrides, typed as the definition says.

    Raises:
        PipelineDefinitionError: an unknown parameter, a missing value, a value of the wrong
            type or outside the parameter's EnumValues.
    """
    declared = {p["Name"]: p for p in definition.get("Parameters", [])}
    unknown = set(overrides) - set(declared)
    if unknown:
        raise PipelineDefinitionError(
            f"unknown pipeline parameter(s) {', '.join(sorted(unknown))}; the definition has "
            f"{', '.join(sorted(declared)) or 'none'}"
        )
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        raw = overrides.get(name, spec.get("DefaultValue"))
        if raw is None:
            raise PipelineDefinitionError(
                f"pipeline parameter {name!r} has no default and no value was given"
            )
        kind = spec.get("Type", "String")
        try:
            value = typed_value(kind, raw)
        except ValueError:
            raise PipelineDefinitionError(f"pipeline parameter {name!r} is {kind}, got {raw!r}") from None
        if spec.get("EnumValues") and value not in spec["EnumValues"]:
            raise PipelineDefinitionError(
                f"pipeline parameter {name!r} must be one of {', '.join(spec['EnumValues'])}, got {value!r}"
            )
        values[name] = value
    return values


def _string(raw: Any) -> str:
    """Text as SageMaker writes it: a Boolean is ``true``/``false``."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def _boolean(raw: Any) -> bool:
    """Pipeline Boolean parameters: a bool, or the strings true/false in any case."""
    if isinstance(raw, bool):
        return raw
    if str(raw).lower() in ("true", "false"):
        return str(raw).lower() == "true"
    raise ValueError(raw)


def _integer(raw: Any) -> int:
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        raise ValueError(raw)
    return int(raw)


def _float(raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError(raw)
    return float(raw)


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "String": _string,
    "Integer": _integer,
    "Float": _float,
    "Boolean": _boolean,
}


def typed_value(kind: str, raw: Any) -> Any:
    """``raw`` as a pipeline value of type ``kind`` (String, Integer, Float or Boolean).

    Raises:
        ValueError: ``raw`` is not a value of that type.
    """
    return _CONVERTERS.get(kind, _CONVERTERS["String"])(raw)
