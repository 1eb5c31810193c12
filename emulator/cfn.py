"""Resolve CloudFormation intrinsics of a synthesized cloud assembly, locally.

The offline runner must run the pipeline definition *as synthesized*: the template's
`PipelineDefinitionBody` is an intrinsic (`Fn::Sub` over the JSON) whose variables point
at other stacks' resources. :class:`Assembly` loads every template in a `cdk.out` folder
and resolves those intrinsics to deterministic local stand-in names (a bucket's `Ref`
becomes a valid bucket name, an ARN attribute a plausible ARN), following cross-stack
references (`Fn::ImportValue`, `Fn::GetStackOutput`) into the exporting stack.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.standins import (
    ACCOUNT,
    NAME_PROPERTIES,
    PARTITION,
    REGION,
    URL_SUFFIX,
    standin_arn,
    standin_name,
)

_SUB_VAR = re.compile(r"\$\{([^}]+)\}")


class IntrinsicError(ValueError):
    """An intrinsic could not be resolved; the message names it and where it was."""


@dataclass
class Assembly:
    """The templates of one cloud assembly (a `cdk.out` folder), by stack name."""

    templates: dict[str, dict[str, Any]]
    directory: Path | None = None
    _exports: dict[str, tuple[str, str]] = field(default_factory=dict, init=False)

    @classmethod
    def load(cls, directory: Path) -> Assembly:
        """Read every `*.template.json` in `directory` (stack name = file stem)."""
        templates = {
            path.name.removesuffix(".template.json"): json.loads(path.read_text())
            for path in sorted(directory.glob("*.template.json"))
        }
        if not templates:
            raise IntrinsicError(f"no *.template.json in {directory}: run the synth first")
        return cls(templates=templates, directory=directory)

    def __post_init__(self) -> None:
        for stack, template in self.templates.items():
            for output_id, output in template.get("Outputs", {}).items():
                export = output.get("Export", {}).get("Name")
                if export is not None:
                    # Export names may be intrinsics themselves (`${AWS::StackName}-Foo`).
                    name = _Resolver(self, stack).resolve(export, f"{stack}.Outputs.{output_id}.Export")
                    self._exports[str(name)] = (stack, output_id)

    def resources_of_type(self, resource_type: str) -> list[tuple[str, str, dict[str, Any]]]:
        """All (stack, logical id, resource) of a CloudFormation type, in a stable order."""
        return [
            (stack, logical_id, resource)
            for stack, template in sorted(self.templates.items())
            for logical_id, resource in sorted(template.get("Resources", {}).items())
            if resource.get("Type") == resource_type
        ]

    def resolve(self, stack: str, value: Any, where: str = "") -> Any:
        """Resolve every intrinsic inside `value` as seen from `stack`."""
        return _Resolver(self, stack).resolve(value, where or stack)

    def asset_files(self) -> list[tuple[Path, str, str]]:
        """(local file, bucket, key) of every file asset in the assembly's *.assets.json."""
        if self.directory is None:
            return []
        out: list[tuple[Path, str, str]] = []
        for manifest_path in sorted(self.directory.glob("*.assets.json")):
            manifest = json.loads(manifest_path.read_text())
            for asset in manifest.get("files", {}).values():
                source = asset["source"]
                path = self.directory / source["path"]
                for destination in asset["destinations"].values():
                    bucket = _substitute_pseudo(destination["bucketName"])
                    out.append((path, bucket, _substitute_pseudo(destination["objectKey"])))
        return out


def _substitute_pseudo(text: str) -> str:
    pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": PARTITION}
    return _SUB_VAR.sub(lambda m: pseudo.get(m.group(1), m.group(0)), text)


class _Resolver:
    def __init__(self, assembly: Assembly, stack: str) -> None:
        self.assembly = assembly
        self.stack = stack
        self.template = assembly.templates.get(stack)
        if self.template is None:
            raise IntrinsicError(f"stack {stack!r} is not in the assembly")

    def resolve(self, value: Any, where: str) -> Any:
        if isinstance(value, list):
            return [self.resolve(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" or key.startswith("Fn::"):
                return self.intrinsic(key, arg, where)
            if key == "Condition" and isinstance(arg, str):
                return self.condition(arg, where)
        return {k: self.resolve(v, f"{where}.{k}") for k, v in value.items()}

    def intrinsic(self, name: str, arg: Any, where: str) -> Any:
        handlers = {
            "Ref": self.ref,
            "Fn::GetAtt": self.get_att,
            "Fn::Sub": self.sub,
            "Fn::Join": self.join,
            "Fn::Select": self.select,
            "Fn::Split": self.split,
            "Fn::FindInMap": self.find_in_map,
            "Fn::ImportValue": self.import_value,
            "Fn::GetStackOutput": self.get_stack_output,
            "Fn::GetAZs": self.get_azs,
            "Fn::If": self.if_,
            "Fn::Equals": self.equals,
            "Fn::Not": self.not_,
            "Fn::And": self.and_,
            "Fn::Or": self.or_,
        }
        handler = handlers.get(name)
        if handler is None:
            raise IntrinsicError(f"{where}: intrinsic {name} is not supported offline")
        return handler(arg, where)

    # -- individual intrinsics
    def ref(self, name: Any, where: str) -> str:
        pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::StackName": self.stack,
            "AWS::NoValue": "",
        }
        if name in pseudo:
            return pseudo[name]
        assert self.template is not None
        parameter = self.template.get("Parameters", {}).get(name)
        if parameter is not None:
            if "Default" not in parameter:
                raise IntrinsicError(f"{where}: parameter {name} has no default to use offline")
            return str(parameter["Default"])
        resource = self.template.get("Resources", {}).get(name)
        if resource is None:
            raise IntrinsicError(f"{where}: Ref to {name!r}, which is neither a parameter nor a resource")
        return self.resource_name(name, resource, where)

    def get_att(self, arg: Any, where: str) -> str:
        logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else self.resolve(arg, where)
        assert self.template is not None
        resource = self.template.get("Resources", {}).get(logical_id)
        if resource is None:
            raise IntrinsicError(f"{where}: Fn::GetAtt of unknown resource {logical_id!r}")
        name = self.resource_name(logical_id, resource, where)
        if attribute == "Arn" or attribute.endswith("Arn"):
            return standin_arn(resource["Type"], name)
        if attribute == "GroupId":
            return standin_name(self.stack, logical_id, "AWS::EC2::SecurityGroup")
        return name

    def resource_name(self, logical_id: str, resource: dict[str, Any], where: str) -> str:
        """A resource's name: its name property, resolved when it is an intrinsic (CDK renders
        `f"x-{Aws.ACCOUNT_ID}"` as `Fn::Join`), else a deterministic stand-in."""
        explicit = (resource.get("Properties") or {}).get(NAME_PROPERTIES.get(resource["Type"], ""))
        if explicit is not None and not isinstance(explicit, str):
            return str(self.resolve(explicit, f"{where} (name of {logical_id})"))
        return standin_name(self.stack, logical_id, resource["Type"], resource.get("Properties"))

    # -- conditions (Fn::If and the condition functions it uses)
    def condition(self, name: str, where: str) -> bool:
        assert self.template is not None
        if name not in self.template.get("Conditions", {}):
            raise IntrinsicError(f"{where}: condition {name!r} is not in the template's Conditions")
        return bool(self.resolve(self.template["Conditions"][name], f"Conditions.{name}"))

    def if_(self, arg: Any, where: str) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(name, where) else when_false, where)

    def equals(self, arg: Any, where: str) -> bool:
        left, right = self.resolve(arg, where)
        return bool(left == right)

    def not_(self, arg: Any, where: str) -> bool:
        return not self.resolve(arg[0], where)

    def and_(self, arg: Any, where: str) -> bool:
        return all(self.resolve(arg, where))

    def or_(self, arg: Any, where: str) -> bool:
        return any(self.resolve(arg, where))

    def get_azs(self, arg: Any, where: str) -> list[str]:
        return [f"{REGION}{zone}" for zone in "abc"]

    def sub(self, arg: Any, where: str) -> str:
        template, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        resolved = {k: self.resolve(v, f"{where}.{k}") for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            token = match.group(1)
            if token.startswith("!"):
                return "${" + token[1:] + "}"
            if token in resolved:
                return str(resolved[token])
            if "." in token:
                return self.get_att(token, where)
            return self.ref(token, where)

        return _SUB_VAR.sub(replace, template)

    def join(self, arg: Any, where: str) -> str:
        delimiter, items = arg
        return str(delimiter).join(str(x) for x in self.resolve(items, where))

    def select(self, arg: Any, where: str) -> Any:
        index, items = arg
        return self.resolve(items, where)[int(self.resolve(index, where))]

    def split(self, arg: Any, where: str) -> list[str]:
        delimiter, text = arg
        return str(self.resolve(text, where)).split(delimiter)

    def find_in_map(self, arg: Any, where: str) -> Any:
        map_name, top, second = (self.resolve(x, where) for x in arg)
        assert self.template is not None
        try:
            return self.template["Mappings"][map_name][top][second]
        except KeyError as err:
            raise IntrinsicError(f"{where}: Fn::FindInMap {map_name}/{top}/{second} has no value") from err

    def import_value(self, arg: Any, where: str) -> Any:
        name = self.resolve(arg, where)
        if name not in self.assembly._exports:
            raise IntrinsicError(f"{where}: Fn::ImportValue {name!r}: no stack in the assembly exports it")
        stack, output_id = self.assembly._exports[name]
        return self._output(stack, output_id, where)

    def get_stack_output(self, arg: Any, where: str) -> Any:
        stack = self.resolve(arg["StackName"], where)
        return self._output(stack, self.resolve(arg["OutputName"], where), where)

    def _output(self, stack: str, output_id: str, where: str) -> Any:
        template = self.assembly.templates.get(stack)
        if template is None or output_id not in template.get("Outputs", {}):
            raise IntrinsicError(f"{where}: output {output_id!r} of stack {stack!r} is not in the assembly")
        return _Resolver(self.assembly, stack).resolve(template["Outputs"][output_id]["Value"], where)
