"""Values a pipeline definition computes at run time, written as the JSON SageMaker Pipelines reads.

A step's arguments are plain JSON in which some values are expressions the service evaluates
when the step starts: ``{"Get": "Parameters.X"}`` (a run's parameter), ``{"Get":
"Execution.PipelineExecutionId"}``, ``{"Get": "Steps.S.<path>"}`` (a property of an earlier step),
``{"Std:Join": ...}`` and ``{"Std:JsonGet": ...}`` (a value read from a step's property file).
These are the forms the SageMaker Python SDK's ``Parameter``, ``ExecutionVariables``,
``Properties``, ``Join`` and ``JsonGet`` compile to; ``tests/unit/test_definition_sdk.py`` pins
that they stay the same. References to a step's properties are made by the step itself
(``steps.JobStep.output_uri`` and friends), which checks them against what the step declares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

#: A JSON object of the definition (an expression, a step, a parameter declaration).
Json = dict[str, Any]

STRING: Final = "String"
FLOAT: Final = "Float"


def get(path: str) -> Json:
    """``{"Get": path}``: the value at ``path`` (``Parameters.*``, ``Execution.*``, ``Steps.*``)."""
    return {"Get": path}


def execution_id() -> Json:
    """The running execution's ID (the SDK's ``ExecutionVariables.PIPELINE_EXECUTION_ID``)."""
    return get("Execution.PipelineExecutionId")


def join(values: Sequence[Any], *, on: str) -> Json:
    """The ``values`` (strings or expressions) joined with ``on`` at run time (``Std:Join``)."""
    return {"Std:Join": {"On": on, "Values": list(values)}}


@dataclass(frozen=True)
class Parameter:
    """A pipeline parameter: its declaration, and :attr:`expr` to use its value."""

    name: str
    type: str
    default: str | float | None = None
    enum_values: tuple[str, ...] = ()

    @property
    def expr(self) -> Json:
        """The run's value of this parameter."""
        return get(f"Parameters.{self.name}")

    def request(self) -> Json:
        """The declaration in the definition's ``Parameters`` list."""
        declaration: Json = {"Name": self.name, "Type": self.type}
        if self.default is not None:
            declaration["DefaultValue"] = self.default
        if self.enum_values:
            declaration["EnumValues"] = list(self.enum_values)
        return declaration


def string_parameter(name: str, default: str | None = None, *, enum_values: Sequence[str] = ()) -> Parameter:
    return Parameter(name, STRING, default, tuple(enum_values))


def float_parameter(name: str, default: float | None = None) -> Parameter:
    return Parameter(name, FLOAT, default)


@dataclass(frozen=True)
class PropertyFile:
    """A JSON file a processing step writes to output ``output_name``, readable by later steps."""

    name: str
    output_name: str
    path: str

    def request(self) -> Json:
        """The declaration in the writing step's ``PropertyFiles``."""
        return {"PropertyFileName": self.name, "OutputName": self.output_name, "FilePath": self.path}


def json_get(step_name: str, property_file: PropertyFile, path: str) -> Json:
    """The value at JSON ``path`` in ``property_file`` as step ``step_name`` wrote it (``Std:JsonGet``)."""
    return {
        "Std:JsonGet": {
            "PropertyFile": get(f"Steps.{step_name}.PropertyFiles.{property_file.name}"),
            "Path": path,
        }
    }


def greater_than_or_equal_to(left: Any, right: Any) -> Json:
    """A condition: ``left >= right`` (either side a number or an expression)."""
    return {"Type": "GreaterThanOrEqualTo", "LeftValue": left, "RightValue": right}


def greater_than(left: Any, right: Any) -> Json:
    """A condition: ``left > right`` (either side a number or an expression)."""
    return {"Type": "GreaterThan", "LeftValue": left, "RightValue": right}
