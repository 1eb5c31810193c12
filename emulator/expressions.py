"""Evaluate SageMaker pipeline-definition expressions and conditions.

The definition's values may be expressions: `{"Get": "Parameters.X"}`,
`{"Get": "Steps.S.<property path>"}`, `{"Get": "Execution.PipelineExecutionId"}`,
`{"Std:Join": {...}}` and `{"Std:JsonGet": {...}}`. :class:`Scope` holds what a running
execution knows (parameter values, finished steps' properties) and resolves them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

_PATH_TOKEN = re.compile(r"""\.?([A-Za-z_][A-Za-z0-9_]*)|\[(?:'([^']*)'|"([^"]*)"|(\d+))\]""")


class ExpressionError(ValueError):
    """An expression cannot be evaluated; the message names the step and the path."""


def parse_path(path: str) -> list[str | int]:
    """Split `Outputs['train'].S3Output.S3Uri` or `a.b[0]` into keys and indexes."""
    tokens: list[str | int] = []
    position = 0
    while position < len(path):
        match = _PATH_TOKEN.match(path, position)
        if match is None:
            raise ExpressionError(f"cannot parse property path {path!r} at character {position}")
        name, single, double, index = match.groups()
        tokens.append(int(index) if index is not None else name or single or double or "")
        position = match.end()
    return tokens


def lookup(data: Any, path: str, what: str) -> Any:
    """Follow `path` through nested dicts/lists; a missing element names `what` and the path."""
    current = data
    for token in parse_path(path):
        try:
            # Lists SageMaker lets you index by name or position (ProcessingOutputConfig.Outputs)
            # are kept by name; a position then means the n-th in definition order.
            if isinstance(current, dict) and isinstance(token, int):
                current = list(current.values())[token]
            else:
                current = current[token]
        except (KeyError, IndexError, TypeError):
            raise ExpressionError(f"{what} has no property {path!r} (missing {token!r})") from None
    return current


@dataclass
class Scope:
    """What an execution knows: parameters, execution variables, finished steps."""

    parameters: dict[str, Any]
    execution: dict[str, str]
    #: step name -> its properties (shaped like the Describe* response SageMaker exposes)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: reads a JSON property file: (step name, property file name) -> parsed JSON
    read_property_file: Callable[[str, str], Any] | None = None
    #: reads a JSON document from an S3 URI
    read_s3_json: Callable[[str], Any] | None = None

    def resolve(self, value: Any) -> Any:
        """Return `value` with every expression inside it evaluated."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Get":
                return self.get(arg)
            if key == "Std:Join":
                return str(arg.get("On", "")).join(_text(self.resolve(v)) for v in arg["Values"])
            if key == "Std:JsonGet":
                return self.json_get(arg)
            if key.startswith("Std:"):
                raise ExpressionError(f"pipeline function {key} is not supported offline")
        return {k: self.resolve(v) for k, v in value.items()}

    def get(self, reference: str) -> Any:
        kind, _, rest = reference.partition(".")
        if kind == "Parameters":
            if rest not in self.parameters:
                raise ExpressionError(f"unknown pipeline parameter {rest!r}")
            return self.parameters[rest]
        if kind == "Execution":
            if rest not in self.execution:
                raise ExpressionError(f"unknown execution variable {rest!r}")
            return self.execution[rest]
        if kind == "Steps":
            step, _, path = rest.partition(".")
            if step not in self.properties:
                raise ExpressionError(f"step {step!r} has not run, so {reference!r} has no value")
            return lookup(self.properties[step], path, f"step {step!r}")
        raise ExpressionError(f"unknown reference {reference!r}")

    def json_get(self, arg: Mapping[str, Any]) -> Any:
        """`Std:JsonGet` over a step's declared property file, or (newer SDKs) any S3 URI."""
        if "S3Uri" in arg:
            uri = str(self.resolve(arg["S3Uri"]))
            if self.read_s3_json is None:
                raise ExpressionError("Std:JsonGet with an S3Uri used where S3 cannot be read")
            return lookup(self.read_s3_json(uri), str(arg["Path"]), f"JSON file {uri}")
        if "PropertyFile" not in arg:
            raise ExpressionError(f"Std:JsonGet needs a PropertyFile or an S3Uri, got {sorted(arg)}")
        property_file = arg["PropertyFile"]
        reference = property_file["Get"] if isinstance(property_file, dict) else str(property_file)
        parts = reference.split(".")
        if len(parts) != 4 or parts[0] != "Steps" or parts[2] != "PropertyFiles":
            raise ExpressionError(f"Std:JsonGet needs Steps.<step>.PropertyFiles.<name>, got {reference!r}")
        if self.read_property_file is None:
            raise ExpressionError("Std:JsonGet used where no property file can be read")
        document = self.read_property_file(parts[1], parts[3])
        return lookup(document, str(arg["Path"]), f"property file {parts[3]!r} of step {parts[1]!r}")

    # ------------------------------------------------------------------ conditions
    def condition(self, condition: Mapping[str, Any]) -> bool:
        """Evaluate one condition of a Condition step."""
        kind = condition["Type"]
        if kind == "Not":
            return not self.condition(condition["Expression"])
        if kind == "Or":
            return any(self.condition(c) for c in condition["Conditions"])
        if kind == "In":
            value = self.resolve(condition["QueryValue"])
            return any(_equal(value, self.resolve(v)) for v in condition["Values"])
        left, right = self.resolve(condition["LeftValue"]), self.resolve(condition["RightValue"])
        if kind == "Equals":
            return _equal(left, right)
        compare = _COMPARISONS.get(kind)
        if compare is None:
            raise ExpressionError(f"condition type {kind!r} is not supported")
        return compare(_number(left, kind), _number(right, kind))


_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanOrEqualTo": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanOrEqualTo": lambda a, b: a <= b,
}


def _number(value: Any, kind: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ExpressionError(f"{kind} compares numbers, got {value!r}") from None


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return float(left) == float(right)
    return bool(left == right)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
