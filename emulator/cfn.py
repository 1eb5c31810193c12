"""Resolve CloudFormation intrinsics of a synthesized cloud assembly, locally.

The offline runner must run the pipeline definition *as synthesized*: the template's
`PipelineDefinitionBody` is an intrinsic (`Fn::Sub` over the JSON) whose variables point
at other stacks' resources. :class:`Assembly` loads every template in a `cdk.out` folder
and resolves those intrinsics to deterministic local stand-in names (a bucket's `Ref`
becomes a valid bucket name, an ARN attribute a plausible ARN), following cross-stack
references (`Fn::ImportValue`, `Fn::GetStackOutput`) into the exporting stack. Each intrinsic's
resolution is in :mod:`emulator.intrinsics`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from emulator.intrinsics import IntrinsicError, Resolver, substitute_pseudo
from emulator.manifest import StackTarget, read_targets

__all__ = ["Assembly", "AssetUpload", "IntrinsicError", "StackTarget"]


@dataclass
class Assembly:
    """The templates of one cloud assembly (a `cdk.out` folder), by stack name."""

    templates: dict[str, dict[str, Any]]
    directory: Path | None = None
    #: Where each stack deploys (manifest.json); a stack not listed is env-agnostic.
    targets: dict[str, StackTarget] = field(default_factory=dict)
    _exports: dict[str, tuple[str, str]] = field(default_factory=dict, init=False)
    #: Stack -> the account its environment names (pseudo parameters and ARNs resolve to it).
    _accounts: dict[str, str] = field(default_factory=dict, init=False)

    @classmethod
    def load(cls, directory: Path) -> Assembly:
        """Read every `*.template.json` in `directory` (stack name = file stem) and, when there is
        one, its `manifest.json` (each stack's environment)."""
        templates = {
            path.name.removesuffix(".template.json"): json.loads(path.read_text())
            for path in sorted(directory.glob("*.template.json"))
        }
        if not templates:
            raise IntrinsicError(f"no *.template.json in {directory}: run the synth first")
        return cls(templates=templates, directory=directory, targets=read_targets(directory))

    def __post_init__(self) -> None:
        self._accounts.update(
            {stack: t.account for stack, t in self.targets.items() if t.account is not None}
        )
        for stack, template in self.templates.items():
            for output_id, output in template.get("Outputs", {}).items():
                export = output.get("Export", {}).get("Name")
                if export is not None:
                    # Export names may be intrinsics themselves (`${AWS::StackName}-Foo`).
                    name = self._resolver(stack).resolve(export, f"{stack}.Outputs.{output_id}.Export")
                    self._exports[str(name)] = (stack, output_id)

    def target(self, stack: str) -> StackTarget:
        """Where ``stack`` deploys (env-agnostic when the manifest does not say)."""
        return self.targets.get(stack, StackTarget())

    def _resolver(self, stack: str) -> Resolver:
        return Resolver(self.templates, self._exports, stack, accounts=self._accounts)

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
        return self._resolver(stack).resolve(value, where or stack)

    def asset_files(self) -> list[tuple[Path, str, str]]:
        """(local file, bucket, key) of every file asset in the assembly's *.assets.json."""
        return [(asset.path, asset.bucket, asset.key) for asset in self.asset_uploads()]

    def asset_uploads(self) -> list[AssetUpload]:
        """Every file asset's destination in the assembly's *.assets.json, with the role that
        publishes it when the manifest names one in a fixed account (a stack with an environment)."""
        if self.directory is None:
            return []
        out: list[AssetUpload] = []
        for manifest_path in sorted(self.directory.glob("*.assets.json")):
            manifest = json.loads(manifest_path.read_text())
            for asset in manifest.get("files", {}).values():
                source = asset["source"]
                path = self.directory / source["path"]
                for destination in asset["destinations"].values():
                    role = destination.get("assumeRoleArn")
                    fixed = role is not None and "${AWS::AccountId}" not in role
                    out.append(
                        AssetUpload(
                            path,
                            substitute_pseudo(destination["bucketName"]),
                            substitute_pseudo(destination["objectKey"]),
                            substitute_pseudo(role) if fixed else None,
                        )
                    )
        return out


class AssetUpload(NamedTuple):
    """One file asset at one destination, as ``cdk deploy`` publishes it."""

    path: Path
    bucket: str
    key: str
    #: The publishing role of the destination's account (None: env-agnostic, the caller's own).
    role_arn: str | None
