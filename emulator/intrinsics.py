"""CloudFormation intrinsic functions, resolved to local stand-ins (:class:`Resolver`).

``Ref`` and ``Fn::GetAtt`` of a resource become deterministic stand-in names and ARNs
(:mod:`emulator.standins`), in the stack's account; pseudo parameters the stack's account (the one
its environment names, else the stand-in's default) and the stand-in region; parameters their
default; ``Fn::ImportValue`` and ``Fn::GetStackOutput`` follow into the exporting stack's output.
Conditions (``Fn::If`` and the condition functions) are evaluated. Anything else is an
:class:`IntrinsicError` naming where it was. :mod:`emulator.cfn` loads the assembly it reads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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

#: A ``${Name}`` variable of ``Fn::Sub`` (and of asset manifests).
SUB_VAR = re.compile(r"\$\{([^}]+)\}")


class IntrinsicError(ValueError):
    """An intrinsic could not be resolved; the message names it and where it was."""


def substitute_pseudo(text: str, *, account: str = ACCOUNT) -> str:
    """``${AWS::AccountId}`` (as ``account``), ``${AWS::Region}`` and ``${AWS::Partition}`` in
    ``text`` as the stand-ins."""
    pseudo = {"AWS::AccountId": account, "AWS::Region": REGION, "AWS::Partition": PARTITION}
    return SUB_VAR.sub(lambda m: pseudo.get(m.group(1), m.group(0)), text)


class Resolver:
    """Resolves intrinsics as seen from one stack of an assembly.

    ``templates``: every stack's template by name; ``exports``: export name -> (stack, output id),
    read (not copied) as the assembly fills it; ``accounts``: stack -> the account its environment
    names (a stack not in it is in the stand-in's default account, :data:`ACCOUNT`).
    """

    def __init__(
        self,
        templates: Mapping[str, dict[str, Any]],
        exports: Mapping[str, tuple[str, str]],
        stack: str,
        *,
        accounts: Mapping[str, str] | None = None,
    ) -> None:
        self.templates = templates
        self.exports = exports
        self.stack = stack
        self.accounts = accounts or {}
        self.account = self.accounts.get(stack, ACCOUNT)
        self.template = templates.get(stack)
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
            "AWS::AccountId": self.account,
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
            return standin_arn(resource["Type"], name, account=self.account)
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

        return SUB_VAR.sub(replace, template)

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
        if name not in self.exports:
            raise IntrinsicError(f"{where}: Fn::ImportValue {name!r}: no stack in the assembly exports it")
        stack, output_id = self.exports[name]
        return self._output(stack, output_id, where)

    def get_stack_output(self, arg: Any, where: str) -> Any:
        stack = self.resolve(arg["StackName"], where)
        return self._output(stack, self.resolve(arg["OutputName"], where), where)

    def _output(self, stack: str, output_id: str, where: str) -> Any:
        template = self.templates.get(stack)
        if template is None or output_id not in template.get("Outputs", {}):
            raise IntrinsicError(f"{where}: output {output_id!r} of stack {stack!r} is not in the assembly")
        return Resolver(self.templates, self.exports, stack, accounts=self.accounts).resolve(
            template["Outputs"][output_id]["Value"], where
        )
