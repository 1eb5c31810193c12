"""Concrete policies of a synthesized cloud assembly: every role's identity policies and every
resource policy (bucket, key, topic, queue, VPC endpoint), with intrinsics resolved.

Intrinsics (``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``, ``Fn::Select``, ``Fn::FindInMap``,
``Fn::ImportValue`` and CDK's cross-stack ``Fn::GetStackOutput``) are resolved by the offline
emulator's :class:`emulator.cfn.Assembly`, after two rewrites that make the result a realistic
account rather than the emulator's stand-in one:

* the pseudo parameters ``AWS::AccountId``/``AWS::Region`` become :data:`ACCOUNT`/:data:`REGION`
  before resolution (so region mappings pick the right row), and the emulator's stand-in ARNs
  are moved to the same account and region afterwards;
* ``Ref``/``Fn::GetAtt`` of the types whose real values are ARNs or carry a part the emulator
  does not model (SNS topics, SQS queues, EventBridge rules, IAM roles with a ``Path``) are
  replaced by those values, so a topic policy's ``Ref`` and a key policy's
  ``...:sns:<region>:<account>:<name>`` agree, and a role's ARN is ``role/<path>/<name>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policy_eval import Policy, Principal

from emulator import standins
from emulator.cfn import Assembly

ACCOUNT = "111122223333"
REGION = "eu-west-1"
#: The default policy of a VPC endpoint created without one: full access.
FULL_ACCESS = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}


@dataclass(frozen=True)
class Role:
    """An IAM role of the assembly and every policy that applies to it."""

    stack: str
    logical_id: str
    name: str
    arn: str
    trust: Policy
    policies: tuple[Policy, ...]
    #: AWS-managed policy ARNs attached (cannot be evaluated offline).
    managed_arns: tuple[str, ...] = ()

    @property
    def principal(self) -> Principal:
        return Principal.role(self.arn)


@dataclass
class PlatformPolicies:
    """Resolved templates of one assembly, by stack part (the name after ``<prefix>-``)."""

    prefix: str
    templates: dict[str, dict[str, Any]]
    assembly: Assembly
    roles: dict[str, Role] = field(default_factory=dict)  # by ARN
    bucket_policies: dict[str, Policy] = field(default_factory=dict)  # by bucket name
    key_policies: dict[str, Policy] = field(default_factory=dict)  # by key ARN
    topic_policies: dict[str, list[Policy]] = field(default_factory=dict)  # by topic ARN
    queue_policies: dict[str, list[Policy]] = field(default_factory=dict)  # by queue URL
    #: VPC endpoint policies by service suffix (``s3``, ``sagemaker.api``, ``kms``...)
    endpoint_policies: dict[str, Policy] = field(default_factory=dict)
    endpoint_ids: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, outdir: Path, prefix: str) -> PlatformPolicies:
        """Read every ``*.template.json`` of ``outdir`` (all stacks, the pipeline's included)."""
        raw = {
            p.name.removesuffix(".template.json"): json.loads(p.read_text())
            for p in outdir.glob("*.template.json")
        }
        prepared = {
            stack: _realistic(_pseudo(template), stack, _real_values(stack, template))
            for stack, template in raw.items()
        }
        platform = cls(prefix=prefix, templates=prepared, assembly=Assembly(templates=prepared))
        platform._collect()
        return platform

    # ------------------------------------------------------------------ resolution

    def stack(self, part: str) -> str:
        return f"{self.prefix}-{part}"

    def resolve(self, part: str, value: Any) -> Any:
        """``value`` (any template fragment of stack ``part``) with every intrinsic resolved."""
        stack = self.stack(part)
        prepared = _realistic(_pseudo(value), stack, self._values(stack))
        return _fix_standins(self.assembly.resolve(stack, prepared))

    def _values(self, stack: str) -> dict[tuple[str, str], str]:
        return _real_values(stack, self.templates.get(stack, {}))

    def resources(self, part: str, resource_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in sorted(
            self.templates.get(self.stack(part), {}).get("Resources", {}).items()
        ):
            if resource["Type"] == resource_type:
                yield logical_id, resource

    def all_resources(self, resource_type: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for stack in sorted(self.templates):
            part = stack.removeprefix(f"{self.prefix}-")
            for logical_id, resource in self.resources(part, resource_type):
                yield part, logical_id, resource

    def ref(self, part: str, logical_id: str) -> str:
        return str(self.resolve(part, {"Ref": logical_id}))

    def arn(self, part: str, logical_id: str, attribute: str = "Arn") -> str:
        return str(self.resolve(part, {"Fn::GetAtt": [logical_id, attribute]}))

    def logical_id(self, part: str, resource_type: str, prefix: str) -> str:
        """The one ``resource_type`` whose logical ID is ``prefix`` (+ CDK's 8-hex hash)."""
        pattern = re.compile(re.escape(prefix) + r"([0-9A-F]{8})?")
        found = [lid for lid, _ in self.resources(part, resource_type) if pattern.fullmatch(lid)]
        if len(found) != 1:
            present = [lid for lid, _ in self.resources(part, resource_type)]
            raise LookupError(
                f"{resource_type} {prefix!r} in stack {part!r}: found {found}; present: {present}"
            )
        return found[0]

    # ------------------------------------------------------------------ lookups

    def role(self, part: str, prefix: str) -> Role:
        """The role of stack ``part`` whose logical ID starts with ``prefix`` (e.g. ``MlEngineerRole``)."""
        return self.roles[self.arn(part, self.logical_id(part, "AWS::IAM::Role", prefix))]

    def bucket(self, part: str, logical_id: str) -> str | None:
        """A bucket's name, or None when the stack has no such bucket."""
        if logical_id not in self.templates.get(self.stack(part), {}).get("Resources", {}):
            return None
        return self.ref(part, logical_id)

    def bucket_key_arn(self, bucket: str) -> str | None:
        """The KMS key a bucket encrypts with by default (None for SSE-S3)."""
        for part, logical_id, resource in self.all_resources("AWS::S3::Bucket"):
            if self.ref(part, logical_id) == bucket:
                rules = (
                    resource["Properties"]
                    .get("BucketEncryption", {})
                    .get("ServerSideEncryptionConfiguration", [])
                )
                for rule in rules:
                    key = rule.get("ServerSideEncryptionByDefault", {}).get("KMSMasterKeyID")
                    if key is not None:
                        return str(self.resolve(part, key))
        return None

    # ------------------------------------------------------------------ collection

    def _collect(self) -> None:
        attached: dict[str, list[Policy]] = {}
        for part, logical_id, resource in self.all_resources("AWS::IAM::ManagedPolicy"):
            props = resource["Properties"]
            policy = Policy(f"{part}/{logical_id}", self.resolve(part, props["PolicyDocument"]))
            for role_name in self.resolve(part, props.get("Roles", [])):
                attached.setdefault(role_name, []).append(policy)
            attached.setdefault(f"managed:{self.ref(part, logical_id)}", []).append(policy)
        for part, logical_id, resource in self.all_resources("AWS::IAM::Policy"):
            props = resource["Properties"]
            policy = Policy(f"{part}/{logical_id}", self.resolve(part, props["PolicyDocument"]))
            for role_name in self.resolve(part, props.get("Roles", [])):
                attached.setdefault(role_name, []).append(policy)
        for part, logical_id, resource in self.all_resources("AWS::IAM::Role"):
            props = resource["Properties"]
            name = self.ref(part, logical_id)
            policies = list(attached.get(name, []))
            for inline in props.get("Policies", []):
                doc = self.resolve(part, inline["PolicyDocument"])
                policies.append(Policy(f"{part}/{logical_id}/{inline['PolicyName']}", doc))
            aws_managed = []
            for arn in self.resolve(part, props.get("ManagedPolicyArns", [])):
                if f"managed:{arn}" in attached:
                    policies.extend(attached[f"managed:{arn}"])
                else:
                    aws_managed.append(arn)
            arn = self.arn(part, logical_id)
            trust = Policy(
                f"{part}/{logical_id}/trust", self.resolve(part, props["AssumeRolePolicyDocument"])
            )
            self.roles[arn] = Role(part, logical_id, name, arn, trust, tuple(policies), tuple(aws_managed))
        for part, logical_id, resource in self.all_resources("AWS::S3::BucketPolicy"):
            props = resource["Properties"]
            bucket = str(self.resolve(part, props["Bucket"]))
            self.bucket_policies[bucket] = Policy(
                f"{part}/{logical_id}", self.resolve(part, props["PolicyDocument"])
            )
        for part, logical_id, resource in self.all_resources("AWS::KMS::Key"):
            document = self.resolve(part, resource["Properties"]["KeyPolicy"])
            self.key_policies[self.arn(part, logical_id)] = Policy(f"{part}/{logical_id}", document)
        for kind, store, targets in (
            ("AWS::SNS::TopicPolicy", self.topic_policies, "Topics"),
            ("AWS::SQS::QueuePolicy", self.queue_policies, "Queues"),
        ):
            for part, logical_id, resource in self.all_resources(kind):
                props = resource["Properties"]
                policy = Policy(f"{part}/{logical_id}", self.resolve(part, props["PolicyDocument"]))
                for target in self.resolve(part, props[targets]):
                    store.setdefault(str(target), []).append(policy)
        for part, logical_id, resource in self.all_resources("AWS::EC2::VPCEndpoint"):
            props = resource["Properties"]
            service = str(self.resolve(part, props["ServiceName"]))
            suffix = service.split(f".{REGION}.", 1)[1] if f".{REGION}." in service else service
            document = (
                self.resolve(part, props["PolicyDocument"]) if "PolicyDocument" in props else FULL_ACCESS
            )
            self.endpoint_policies[suffix] = Policy(f"{part}/{logical_id} ({suffix})", document)
            self.endpoint_ids[suffix] = self.ref(part, logical_id)

    def pipeline_definitions(self) -> dict[str, dict[str, Any]]:
        """Every ``AWS::SageMaker::Pipeline``'s parsed definition, by ``<part>/<logical id>``."""
        out = {}
        for part, logical_id, resource in self.all_resources("AWS::SageMaker::Pipeline"):
            body = resource["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]
            out[f"{part}/{logical_id}"] = json.loads(self.resolve(part, body))
        return out


# ---------------------------------------------------------------------- template rewrites


def _walk(value: Any, node: Any) -> Any:
    """Rebuild ``value`` bottom-up, calling ``node`` on every dict (it returns the replacement)."""
    if isinstance(value, list):
        return [_walk(v, node) for v in value]
    if isinstance(value, dict):
        return node({k: _walk(v, node) for k, v in value.items()})
    return value


_PSEUDO = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION}


def _pseudo(template: Any) -> Any:
    def node(d: dict[str, Any]) -> Any:
        if len(d) == 1 and d.get("Ref") in _PSEUDO:
            return _PSEUDO[d["Ref"]]
        if len(d) == 1 and "Fn::Sub" in d:
            arg = d["Fn::Sub"]
            text = arg if isinstance(arg, str) else arg[0]
            for name, value in _PSEUDO.items():
                text = text.replace("${" + name + "}", value)
            return {"Fn::Sub": text if isinstance(arg, str) else [text, arg[1]]}
        return d

    return _walk(template, node)


def _name(stack: str, logical_id: str, resource: dict[str, Any], prop: str) -> str | None:
    """The resource's name as the emulator gives it; None when the name is an intrinsic."""
    explicit = (resource.get("Properties") or {}).get(prop)
    if explicit is None:
        return standins.standin_name(stack, logical_id, resource["Type"])
    return explicit if isinstance(explicit, str) else None


def _real_values(stack: str, template: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(logical id, "Ref" | attribute) -> the value AWS would give, for the rewritten types."""
    values: dict[tuple[str, str], str] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        kind = resource["Type"]
        name_property = {
            "AWS::SNS::Topic": "TopicName",
            "AWS::SQS::Queue": "QueueName",
            "AWS::IAM::Role": "RoleName",
            "AWS::Events::Rule": "Name",
        }.get(kind)
        name = _name(stack, logical_id, resource, name_property) if name_property else None
        if name is None:
            continue
        if kind == "AWS::SNS::Topic":
            arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
            values.update(
                {(logical_id, "Ref"): arn, (logical_id, "TopicArn"): arn, (logical_id, "TopicName"): name}
            )
        elif kind == "AWS::SQS::Queue":
            values[(logical_id, "Ref")] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
            values[(logical_id, "Arn")] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
            values[(logical_id, "QueueName")] = name
        elif kind == "AWS::IAM::Role":
            # The ARN carries the role's path (``role/<path>/<name>``): aws:PrincipalArn conditions see it.
            path = resource.get("Properties", {}).get("Path", "/")
            if isinstance(path, str):
                values[(logical_id, "Ref")] = name
                values[(logical_id, "Arn")] = f"arn:aws:iam::{ACCOUNT}:role{path}{name}"
        elif kind == "AWS::Events::Rule":
            values[(logical_id, "Ref")] = name
            values[(logical_id, "Arn")] = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}"
    return values


def _realistic(template: Any, stack: str, values: Mapping[tuple[str, str], str]) -> Any:
    """``template`` with Ref/GetAtt/Sub references to the rewritten types replaced by ``values``."""

    def node(d: dict[str, Any]) -> Any:
        if len(d) != 1:
            return d
        ((key, arg),) = d.items()
        if key == "Ref" and (arg, "Ref") in values:
            return values[(arg, "Ref")]
        if key == "Fn::GetAtt":
            logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
            if isinstance(attribute, str) and (logical_id, attribute) in values:
                return values[(logical_id, attribute)]
        if key == "Fn::Sub":
            text = arg if isinstance(arg, str) else arg[0]

            def replace(match: re.Match[str]) -> str:
                token = match.group(1)
                logical_id, _, attribute = token.partition(".")
                return values.get((logical_id, attribute or "Ref"), match.group(0))

            text = re.sub(r"\$\{([^}!][^}]*)\}", replace, text)
            return {"Fn::Sub": text if isinstance(arg, str) else [text, arg[1]]}
        return d

    return _walk(template, node)


def _fix_standins(value: Any) -> Any:
    """Move the emulator's stand-in ARNs (its own account/region) to :data:`ACCOUNT`/:data:`REGION`."""
    if isinstance(value, str):
        return value.replace(f":{standins.REGION}:{standins.ACCOUNT}:", f":{REGION}:{ACCOUNT}:").replace(
            f"::{standins.ACCOUNT}:", f"::{ACCOUNT}:"
        )
    if isinstance(value, list):
        return [_fix_standins(v) for v in value]
    if isinstance(value, dict):
        return {k: _fix_standins(v) for k, v in value.items()}
    return value
