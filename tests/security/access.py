"""Requests against the synthesized platform: who asks, through which VPC endpoint, with what.

:class:`Access` knows the project's resources (buckets, the data key, the Studio domain, the
network) from the resolved templates and builds realistic requests for the attack cases:
an S3 call from inside the VPC passes the S3 gateway endpoint's policy and the bucket policy,
and an SSE-KMS object also needs the KMS call S3 makes on the caller's behalf; a Studio user's
SageMaker call passes the ``sagemaker.api`` endpoint's policy and carries the Studio identity
keys (``sagemaker:DomainId``, ``sagemaker:UserProfileName``); a job that SageMaker Pipelines
starts is called by the service (no endpoint on the path).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from platform_policies import ACCOUNT, REGION, PlatformPolicies, Role
from policy_eval import Decision, Policy, Principal, Request, authorize, endpoint_decision
from sagemaker_keys import job_context

from contracts.config import AppConfig

#: Logical-ID prefix of each persona's role in the studio stack.
PERSONA_ROLES = {
    "data_scientist": "DataScientistRole",
    "ml_engineer": "MlEngineerRole",
    "approver": "ApproverRole",
}
FOREIGN_ACCOUNT = "999988887777"
FOREIGN_KEY = f"arn:aws:kms:{REGION}:{FOREIGN_ACCOUNT}:key/0000aaaa-attacker"
ADMIN = Policy(
    "attacker's own admin policy", {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def sagemaker_arn(resource: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{resource}"


class Access:
    """The project's resources and request builders; every method returns a :class:`Decision`."""

    def __init__(self, platform: PlatformPolicies, config: AppConfig) -> None:
        self.p = platform
        self.prefix = config.prefix
        self.config = config
        artifact = platform.bucket("data", "ArtifactBucket")
        assert artifact is not None
        self.artifact_bucket: str = artifact
        self.delivery_bucket = platform.bucket("data", "DeliveryBucket")
        self.data_key = platform.arn("data", "DataKey")
        self.group = f"{self.prefix}-models"
        domain_id = platform.logical_id("studio", "AWS::SageMaker::Domain", "StudioDomain")
        domain = platform.resolve(
            "studio", platform.templates[platform.stack("studio")]["Resources"][domain_id]
        )
        self.domain_id = platform.arn("studio", domain_id, "DomainId")
        self.subnets: list[str] = list(domain["Properties"]["SubnetIds"])
        self.security_groups: list[str] = list(domain["Properties"]["DomainSettings"]["SecurityGroupIds"])
        self.vpc_id = str(domain["Properties"]["VpcId"])
        instances = config.env.instances
        self.allowed_instances: tuple[str, ...] = tuple(
            getattr(instances, "allowed", None)
            or sorted({instances.processing, instances.training, instances.endpoint})
        )
        self.training_instance = instances.training
        self.processing_instance = instances.processing
        self.profiles = {persona: persona.replace("_", "-") for persona in PERSONA_ROLES}
        self.profiles.update({user.persona: user.name for user in config.env.studio.users})

    # ------------------------------------------------------------------ principals

    def persona(self, persona: str) -> Role:
        return self.p.role("studio", PERSONA_ROLES[persona])

    @property
    def pipeline_role(self) -> Role:
        return self.p.role("pipeline", "ExecutionRole")

    @property
    def drift_role(self) -> Role:
        return self.p.role("monitoring", "DriftCheckRole")

    def endpoint_model_role(self, stage: str) -> Role:
        return self.p.role(f"endpoint-{stage}", "HostedModelExecutionRole")

    def project_role(self, name: str) -> Role:
        """A delivery CodeBuild project's role: ``Build``, ``DeployStaging`` or ``DeployProd``."""
        return self.p.role("delivery", f"{name}ProjectRole")

    # ------------------------------------------------------------------ S3

    def _endpoint(self, suffix: str) -> list[Policy]:
        return [self.p.endpoint_policies[suffix]]

    def _vpc_keys(self, suffix: str) -> dict[str, Any]:
        return {"aws:SourceVpce": self.p.endpoint_ids[suffix], "aws:SourceVpc": self.vpc_id}

    def s3_request(
        self,
        role: Role | Principal,
        action: str,
        bucket: str,
        key: str | None = None,
        *,
        sse: str | None = "aws:kms",
        kms_key: str | None = "data",
        context: Mapping[str, Any] | None = None,
    ) -> Request:
        """An S3 request; a write carries the SSE headers (``kms_key="data"``: the data key)."""
        principal = role.principal if isinstance(role, Role) else role
        keys: dict[str, Any] = {"aws:SecureTransport": True, **self._vpc_keys("s3")}
        if action in ("s3:PutObject",) and sse is not None:
            keys["s3:x-amz-server-side-encryption"] = sse
            if kms_key is not None:
                keys["s3:x-amz-server-side-encryption-aws-kms-key-id"] = (
                    self.data_key if kms_key == "data" else kms_key
                )
        keys.update(context or {})
        resource = f"arn:aws:s3:::{bucket}" + (f"/{key}" if key is not None else "")
        owner = (
            ACCOUNT
            if bucket in self.p.bucket_policies or bucket in (self.artifact_bucket, self.delivery_bucket)
            else None
        )
        return Request(principal, action, resource, keys, resource_account=owner)

    def s3(
        self, role: Role, action: str, bucket: str, key: str | None = None, *, in_vpc: bool = True, **kw: Any
    ) -> Decision:
        """The S3 authorization alone: identity, bucket policy and (from the VPC) the S3 endpoint."""
        request = self.s3_request(role, action, bucket, key, **kw)
        bucket_policy = self.p.bucket_policies.get(bucket)
        return authorize(
            request,
            identity=role.policies,
            resource=[bucket_policy] if bucket_policy else [],
            endpoints=self._endpoint("s3") if in_vpc else [],
        )

    def s3_object(self, role: Role, action: str, bucket: str, key: str, *, in_vpc: bool = True) -> Decision:
        """S3 plus the KMS call S3 makes with the caller's permissions for an SSE-KMS object."""
        decision = self.s3(role, action, bucket, key, in_vpc=in_vpc)
        key_arn = self.p.bucket_key_arn(bucket)
        if not decision or key_arn is None or action not in ("s3:PutObject", "s3:GetObject"):
            return decision
        kms_action = "kms:GenerateDataKey" if action == "s3:PutObject" else "kms:Decrypt"
        kms = self.kms(
            role,
            kms_action,
            key_arn,
            via="s3",
            context={"kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{bucket}"},
        )
        return kms if not kms else Decision(True, f"{decision.reason}; KMS: {kms.reason}")

    # ------------------------------------------------------------------ KMS, IAM

    def kms(
        self,
        who: Role | Principal,
        action: str,
        key_arn: str,
        *,
        via: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Decision:
        """A KMS call on ``key_arn``; ``via="s3"``: made by S3 for the caller (kms:ViaService)."""
        principal = who.principal if isinstance(who, Role) else who
        keys: dict[str, Any] = {"kms:CallerAccount": principal.account or ACCOUNT}
        if via is not None:
            keys["kms:ViaService"] = f"{via}.{REGION}.amazonaws.com"
        keys.update(context or {})
        return authorize(
            Request(principal, action, key_arn, keys),
            identity=who.policies if isinstance(who, Role) else (),
            key_policy=self.p.key_policies[key_arn],
        )

    def pass_role(self, role: Role, passed: Role) -> Decision:
        """``iam:PassRole`` of ``passed`` to SageMaker (needed to start a job with it)."""
        request = Request(
            role.principal, "iam:PassRole", passed.arn, {"iam:PassedToService": "sagemaker.amazonaws.com"}
        )
        return authorize(request, identity=role.policies)

    # ------------------------------------------------------------------ SageMaker

    def studio_keys(self, persona: str) -> dict[str, Any]:
        """Context of a call from the persona's Studio user profile."""
        return {
            "sagemaker:DomainId": self.domain_id,
            "sagemaker:UserProfileName": self.profiles[persona],
            "aws:userid": f"AROAEXAMPLE{persona.upper()}:SageMaker",
            "aws:SecureTransport": True,
            **self._vpc_keys("sagemaker.api"),
        }

    def from_studio(
        self, persona: str, action: str, resource: str, context: Mapping[str, Any] | None = None
    ) -> Decision:
        """A persona's SageMaker API call from Studio (through the ``sagemaker.api`` endpoint)."""
        role = self.persona(persona)
        keys = {**self.studio_keys(persona), **(context or {})}
        return authorize(
            Request(role.principal, action, sagemaker_arn(resource), keys),
            identity=role.policies,
            endpoints=self._endpoint("sagemaker.api"),
        )

    def by_service(
        self, role: Role, action: str, resource: str, context: Mapping[str, Any] | None = None
    ) -> Decision:
        """A SageMaker call made with ``role`` by a service (SageMaker Pipelines): no endpoint."""
        return authorize(
            Request(role.principal, action, sagemaker_arn(resource), dict(context or {})),
            identity=role.policies,
        )

    def training_request(self, role: Role, **changes: Any) -> dict[str, Any]:
        """A ``CreateTrainingJob`` request that meets every design condition, with ``changes``.

        ``changes`` replaces top-level fields; a value of None removes the field. Nested fields:
        ``instance_type``, ``volume_key``, ``output_key``, ``subnets``, ``security_groups``.
        """
        vpc = {
            "Subnets": changes.pop("subnets", self.subnets),
            "SecurityGroupIds": changes.pop("security_groups", self.security_groups),
        }
        output = {
            "S3OutputPath": f"s3://{self.artifact_bucket}/workspace/x/",
            "KmsKeyId": changes.pop("output_key", self.data_key),
        }
        resources = {
            "InstanceCount": 1,
            "InstanceType": changes.pop("instance_type", self.training_instance),
            "VolumeSizeInGB": 30,
            "VolumeKmsKeyId": changes.pop("volume_key", self.data_key),
        }
        request: dict[str, Any] = {
            "RoleArn": role.arn,
            "ResourceConfig": {k: v for k, v in resources.items() if v is not None},
            "OutputDataConfig": {k: v for k, v in output.items() if v is not None},
            "VpcConfig": vpc,
            "EnableNetworkIsolation": True,
            "EnableInterContainerTrafficEncryption": True,
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        }
        request.update(changes)
        return {k: v for k, v in request.items() if v is not None}

    def processing_request(self, role: Role, **changes: Any) -> dict[str, Any]:
        """A compliant ``CreateProcessingJob`` request (see :meth:`training_request` for changes)."""
        training = self.training_request(
            role, instance_type=changes.pop("instance_type", self.processing_instance), **changes
        )
        network = {
            "VpcConfig": training.get("VpcConfig"),
            "EnableNetworkIsolation": training.get("EnableNetworkIsolation"),
            "EnableInterContainerTrafficEncryption": training.get("EnableInterContainerTrafficEncryption"),
        }
        return {
            "RoleArn": role.arn,
            "ProcessingResources": {"ClusterConfig": training["ResourceConfig"]},
            "ProcessingOutputConfig": {
                "Outputs": [],
                **(
                    {"KmsKeyId": training["OutputDataConfig"]["KmsKeyId"]}
                    if "KmsKeyId" in training["OutputDataConfig"]
                    else {}
                ),
            },
            "NetworkConfig": {k: v for k, v in network.items() if v is not None},
            "StoppingCondition": training["StoppingCondition"],
        }

    def start_job(
        self, persona: str, action: str, request: Mapping[str, Any], name: str | None = None
    ) -> Decision:
        """A persona starts a job from Studio: the Create call and passing its own role."""
        kind = "training-job" if action == "sagemaker:CreateTrainingJob" else "processing-job"
        decision = self.from_studio(
            persona, action, f"{kind}/{name or self.prefix + '-adhoc-1'}", job_context(action, request)
        )
        if not decision:
            return decision
        passed = self.p.roles[str(request["RoleArn"])]
        pass_role = self.pass_role(self.persona(persona), passed)
        return pass_role if not pass_role else decision

    # ------------------------------------------------------------------ other resources

    def topic_publish(self, principal: Principal, topic_arn: str, context: Mapping[str, Any]) -> Decision:
        request = Request(principal, "sns:Publish", topic_arn, {"aws:SecureTransport": True, **context})
        return authorize(request, resource=self.p.topic_policies.get(topic_arn, []))

    def through_endpoint(
        self, suffix: str, principal: Principal, action: str, resource: str, owner: str | None
    ) -> Decision:
        """Only the VPC endpoint's policy, for a caller whose own policies allow anything."""
        keys = {"aws:SecureTransport": True, **self._vpc_keys(suffix)}
        return endpoint_decision(
            Request(principal, action, resource, keys, resource_account=owner), self._endpoint(suffix)
        )


def foreign_principal() -> Principal:
    """A role in an account that is not the project's (an attacker's own credentials)."""
    return Principal.role(f"arn:aws:iam::{FOREIGN_ACCOUNT}:role/attacker")


def reasons(decisions: Sequence[tuple[str, Decision]]) -> str:
    return "\n".join(f"  {name}: {'ALLOWED' if d else 'denied'} ({d.reason})" for name, d in decisions)
