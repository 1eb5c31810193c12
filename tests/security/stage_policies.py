"""A multi-account cloud assembly's policies, each stack resolved in the account it deploys to.

:mod:`platform_policies` resolves a single-account assembly as one realistic account. Here the
emulator's :class:`emulator.cfn.Assembly` reads each stack's environment from ``manifest.json``
(its pseudo ``AWS::AccountId`` and stand-in ARNs are in that account), and every region, pseudo or
stand-in, is :data:`REGION`, as the templates' literal ARNs are. A role's ARN then names its own
account, and :func:`policy_eval.authorize` decides a request from one account to another as AWS
does: the identity policy and the resource policy must both allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platform_policies import Role, _walk
from policy_eval import Policy

from emulator import standins
from emulator.cfn import Assembly

REGION = "eu-west-1"


def _region_refs(value: Any) -> Any:
    """``value`` with ``AWS::Region`` (a ``Ref`` or a ``Fn::Sub`` variable) as :data:`REGION`."""

    def node(d: dict[str, Any]) -> Any:
        if d == {"Ref": "AWS::Region"}:
            return REGION
        if len(d) == 1 and "Fn::Sub" in d:
            arg = d["Fn::Sub"]
            text = (arg if isinstance(arg, str) else arg[0]).replace("${AWS::Region}", REGION)
            return {"Fn::Sub": text if isinstance(arg, str) else [text, arg[1]]}
        return d

    return _walk(value, node)


def _in_region(value: Any) -> Any:
    """Stand-in ARNs (the emulator's region) moved to :data:`REGION`."""
    if isinstance(value, str):
        return value.replace(f":{standins.REGION}:", f":{REGION}:")
    if isinstance(value, list):
        return [_in_region(v) for v in value]
    if isinstance(value, dict):
        return {k: _in_region(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class StagePolicies:
    """Resolved policies of a multi-account assembly, by stack part (the name after ``<prefix>-``)."""

    prefix: str
    assembly: Assembly

    @classmethod
    def load(cls, outdir: Path, prefix: str) -> StagePolicies:
        return cls(prefix, Assembly.load(outdir))

    def account(self, part: str) -> str | None:
        """The account stack ``part`` deploys to (its manifest environment)."""
        return self.assembly.target(f"{self.prefix}-{part}").account

    def resources(self, part: str, resource_type: str) -> dict[str, dict[str, Any]]:
        template = self.assembly.templates[f"{self.prefix}-{part}"]
        return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}

    def resolve(self, part: str, value: Any) -> Any:
        return _in_region(self.assembly.resolve(f"{self.prefix}-{part}", _region_refs(value)))

    def logical_id(self, part: str, resource_type: str, prefix: str) -> str:
        (found,) = [k for k in self.resources(part, resource_type) if k.startswith(prefix)]
        return found

    def arn(self, part: str, logical_id: str, attribute: str = "Arn") -> str:
        return str(self.resolve(part, {"Fn::GetAtt": [logical_id, attribute]}))

    def ref(self, part: str, logical_id: str) -> str:
        return str(self.resolve(part, {"Ref": logical_id}))

    def role(self, part: str, prefix: str) -> Role:
        """The role of ``part`` whose logical ID starts with ``prefix``, with every policy of its stack."""
        logical_id = self.logical_id(part, "AWS::IAM::Role", prefix)
        name = self.ref(part, logical_id)
        props = self.resources(part, "AWS::IAM::Role")[logical_id]["Properties"]
        policies = [
            Policy(f"{part}/{lid}/{p['PolicyName']}", self.resolve(part, p["PolicyDocument"]))
            for lid in [logical_id]
            for p in props.get("Policies", [])
        ]
        for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            for lid, policy in self.resources(part, kind).items():
                if name in self.resolve(part, policy["Properties"].get("Roles", [])):
                    policies.append(
                        Policy(f"{part}/{lid}", self.resolve(part, policy["Properties"]["PolicyDocument"]))
                    )
        trust = Policy(f"{part}/{logical_id}/trust", self.resolve(part, props["AssumeRolePolicyDocument"]))
        managed = tuple(self.resolve(part, props.get("ManagedPolicyArns", [])))
        return Role(part, logical_id, name, self.arn(part, logical_id), trust, tuple(policies), managed)

    def bucket_policy(self, part: str, bucket_logical_id: str) -> Policy:
        """The policy of the bucket ``bucket_logical_id`` of ``part``."""
        (policy,) = [
            (lid, p)
            for lid, p in self.resources(part, "AWS::S3::BucketPolicy").items()
            if p["Properties"]["Bucket"] == {"Ref": bucket_logical_id}
        ]
        return Policy(f"{part}/{policy[0]}", self.resolve(part, policy[1]["Properties"]["PolicyDocument"]))

    def key_policy(self, part: str, key_logical_id: str) -> Policy:
        key = self.resources(part, "AWS::KMS::Key")[key_logical_id]
        return Policy(f"{part}/{key_logical_id}", self.resolve(part, key["Properties"]["KeyPolicy"]))

    def gateway_policy(self, part: str) -> Policy:
        """The S3 gateway endpoint's policy in the network stack ``part``."""
        (found,) = [
            (lid, e)
            for lid, e in self.resources(part, "AWS::EC2::VPCEndpoint").items()
            if e["Properties"].get("VpcEndpointType") == "Gateway"
        ]
        return Policy(f"{part}/{found[0]} (s3)", self.resolve(part, found[1]["Properties"]["PolicyDocument"]))

    def group_policy(self) -> Policy:
        """The data stack's model package group policy (the registry's resource policy)."""
        (group,) = self.resources("data", "AWS::SageMaker::ModelPackageGroup").values()
        return Policy(
            "data/ModelPackageGroup", self.resolve("data", group["Properties"]["ModelPackageGroupPolicy"])
        )
