"""An environment's platform sections: ``network``, ``studio``, ``instances``, ``pipeline``, ``retention``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal, Self, get_args

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator
from pydantic.dataclasses import dataclass

from contracts.config.base import (
    BOOLEAN,
    INSTANCE_RE,
    SECTION,
    InstanceType,
    SettingError,
    integer,
    loading,
    number,
    one_of,
    sorted_set,
    text,
)
from contracts.config.gate import GateConfig

#: Studio personas. ``approver`` may approve or reject model versions and nothing else of note;
#: the two builder personas may register versions but never approve them (no self-approval).
Persona = Literal["data_scientist", "ml_engineer", "approver"]
PERSONAS: Final[tuple[str, ...]] = get_args(Persona)
NetworkMode = Literal["create", "existing"]
#: What ``pipeline.columns`` may set per column (ml_code.column_roles.OVERRIDES; a test pins them equal).
ColumnRoleName = Literal["numeric", "categorical", "date", "identifier", "text", "drop"]
COLUMN_ROLES: Final[tuple[str, ...]] = get_args(ColumnRoleName)
#: Interface endpoints VpcOnly Studio and SageMaker jobs need, by short name.
#: The value is the AWS service suffix (com.amazonaws.REGION.<suffix>).
INTERFACE_ENDPOINTS: Final[Mapping[str, str]] = {
    "sagemaker_api": "sagemaker.api", "sagemaker_runtime": "sagemaker.runtime", "sagemaker_studio": "studio",
    "sagemaker_notebook": "notebook", "sts": "sts", "logs": "logs", "monitoring": "monitoring",
    "ecr_api": "ecr.api", "ecr_docker": "ecr.dkr", "kms": "kms", "ssm": "ssm", "events": "events",
    "codeartifact_api": "codeartifact.api", "codeartifact_repositories": "codeartifact.repositories",
    "sagemaker_experiments": "experiments",
}  # fmt: skip
#: The interface endpoints created when config does not name a list: all but ssm, events, CodeArtifact.
DEFAULT_INTERFACE_ENDPOINTS: Final[tuple[str, ...]] = tuple(list(INTERFACE_ENDPOINTS)[:10])
#: Studio app instance types when config names none: the small general-purpose ones.
STUDIO_INSTANCE_TYPES: Final[tuple[str, ...]] = ("ml.m5.large", "ml.t3.large", "ml.t3.medium")
_LOG_RETENTION_DAYS: Final = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
_EXISTING_ONLY: Final = ("vpcId", "subnetIds", "availabilityZones", "securityGroupId")
_ID = r"[0-9a-f]{8,17}$"


@dataclass(frozen=True, kw_only=True, config=SECTION)
class NetworkConfig:
    """Where SageMaker runs: a VPC we create, or one that already exists."""

    mode: Annotated[NetworkMode, one_of(get_args(NetworkMode))] = "create"
    cidr: Annotated[str, text(r"^(\d{1,3}\.){3}\d{1,3}/(1[6-9]|2[0-8])$", "an IPv4 CIDR from /16 to /28")] = (
        "10.42.0.0/16"
    )
    max_azs: Annotated[int, integer(2, 6)] = 2
    interface_endpoints: Annotated[tuple[Annotated[str, one_of(INTERFACE_ENDPOINTS)], ...], sorted_set()] = (
        tuple(sorted(DEFAULT_INTERFACE_ENDPOINTS))
    )
    flow_log_retention_days: Annotated[int, one_of(_LOG_RETENTION_DAYS)] = 365
    vpc_id: Annotated[str | None, text(f"^vpc-{_ID}", "a VPC ID (vpc-...)")] = None
    subnet_ids: tuple[Annotated[str, text(f"^subnet-{_ID}", "a subnet ID (subnet-...)")], ...] = ()
    availability_zones: tuple[
        Annotated[str, text(r"^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$", "an availability zone name")], ...
    ] = ()
    security_group_id: Annotated[str | None, text(f"^sg-{_ID}", "a security group ID (sg-...)")] = None

    @model_validator(mode="before")
    @classmethod
    def _by_mode(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if data.get("mode") != "existing":  # a created VPC ignores an existing one's settings
            return {key: value for key, value in data.items() if key not in _EXISTING_ONLY}
        # An existing VPC's CIDR drives security-group rules, so it must be stated, not assumed.
        for key in ("cidr", "subnetIds", "availabilityZones", "vpcId"):
            if key not in data:
                raise SettingError(key, "is missing")
        return data

    @model_validator(mode="after")
    def _subnets(self, info: ValidationInfo) -> Self:
        subnets, azs = self.subnet_ids, self.availability_zones
        if loading(info) and self.mode == "existing":
            if len(subnets) < 2 or len(azs) != len(subnets):
                raise SettingError(
                    "subnetIds",
                    "an existing network needs at least 2 private subnets in different AZs, "
                    "with '{section}.availabilityZones' naming the AZ of each",
                )
            if len(set(azs)) < 2:
                raise SettingError("availabilityZones", "subnets must span at least 2 AZs")
        return self


@dataclass(frozen=True, kw_only=True, config=SECTION)
class StudioUser:
    """One Studio user profile and the persona (execution role) it gets."""

    name: Annotated[
        str,
        text(
            r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", "a user profile name (letters, digits, hyphens; up to 63)"
        ),
    ]
    persona: Annotated[Persona, one_of(PERSONAS)]


@dataclass(frozen=True, kw_only=True, config=SECTION)
class StudioConfig:
    """Studio domain settings."""

    idle_timeout_minutes: Annotated[int, integer(60, 525600)] = 120
    users: tuple[StudioUser, ...] = ()
    #: Instance types Studio apps (JupyterLab, Code Editor) may run on (``sagemaker:InstanceTypes``).
    instance_types: Annotated[tuple[InstanceType, ...], sorted_set("instance type")] = STUDIO_INSTANCE_TYPES

    @field_validator("users")
    @classmethod
    def _unique(cls, users: tuple[StudioUser, ...]) -> tuple[StudioUser, ...]:
        names = [user.name for user in users]
        if len(set(names)) != len(names):
            raise ValueError(f"user names must be unique, got {names}")
        return users


@dataclass(frozen=True, kw_only=True, config=SECTION)
class InstanceConfig:
    """Instance types for each kind of SageMaker work, and the allowlist every job is held to."""

    processing: InstanceType = "ml.m5.large"
    training: InstanceType = "ml.m5.xlarge"
    endpoint: InstanceType = "ml.m5.large"
    #: Instance types that roles may start jobs and ad-hoc endpoints on (``sagemaker:InstanceTypes``);
    #: by default exactly the types above, so nothing else can be started.
    allowed: Annotated[tuple[InstanceType, ...], sorted_set("instance type")] = (
        "ml.m5.large",
        "ml.m5.xlarge",
    )

    @model_validator(mode="before")
    @classmethod
    def _allow_the_chosen(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "allowed" in data:
            return data
        chosen = [data.get(kind, getattr(cls(), kind)) for kind in ("processing", "training", "endpoint")]
        return {**data, "allowed": [t for t in chosen if isinstance(t, str) and INSTANCE_RE.match(t)]}

    @model_validator(mode="after")
    def _chosen_are_allowed(self, info: ValidationInfo) -> Self:
        for kind in ("processing", "training", "endpoint"):
            value = getattr(self, kind)
            if loading(info) and value not in self.allowed:
                raise SettingError(
                    kind, f"{value} is not in '{{section}}.allowed' ({', '.join(self.allowed)})"
                )
        return self


@dataclass(frozen=True, kw_only=True, config=SECTION)
class RetentionConfig:
    """How long (days) the bucket keeps what is not a registered model or a deployed baseline."""

    #: Captured endpoint traffic (``data-capture/``).
    capture_days: Annotated[int, integer(1, 3653)] = 90
    #: Drift-check working files and reports (``drift-checks/``).
    drift_check_days: Annotated[int, integer(1, 3653)] = 30
    #: Intermediate pipeline outputs: train/validation splits, training checkpoints.
    intermediate_days: Annotated[int, integer(1, 3653)] = 30


@dataclass(frozen=True, kw_only=True, config=SECTION)
class ScaleConfig:
    """How the training pipeline's jobs spread over instances (``pipeline.scale``).

    With ``processingInstances`` P > 1 a Profile step runs first and Preprocess runs on P instances,
    each on its share of the input's objects (``ShardedByS3Key``: the input must be at least P files);
    ``trainingInstances`` T > 1 trains XGBoost across T instances with its collective, each on its
    shard of the splits. ``chunkRows`` and ``sampleRows`` bound what one instance holds in memory.
    """

    processing_instances: Annotated[int, integer(1, 100)] = 1
    training_instances: Annotated[int, integer(1, 100)] = 1
    #: Rows read at once by Preprocess, Train and Evaluate.
    chunk_rows: Annotated[int, integer(1000, 5_000_000)] = 100_000
    #: Rows of the uniform sample (by row hash) behind medians, quantiles and the drift baseline;
    #: exact when the training split has no more rows than this.
    sample_rows: Annotated[int, integer(1000, 1_000_000)] = 100_000
    #: Train pages its binned matrices out to the instance's volume (XGBoost's external memory) for
    #: any share; without it, only once an instance's training share passes 5 ``chunkRows``.
    external_memory: Annotated[bool, BOOLEAN] = False


@dataclass(frozen=True, kw_only=True, config=SECTION)
class PipelineConfig:
    """Training pipeline defaults: the first three are also pipeline parameters."""

    #: The old absolute threshold: now the default of QualityThreshold, the run's gate metric's
    #: threshold (none by default: the gate's floor is relative, see ``gate``).
    quality_threshold: Annotated[float | None, number(0.0, 1.0)] = None
    champion_margin: Annotated[float, number(0.0, 1.0)] = 0.01
    use_spot: Annotated[bool, BOOLEAN] = False
    max_runtime_seconds: Annotated[int, integer(60, 432000)] = 3600
    scale: ScaleConfig = Field(default_factory=ScaleConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
    #: A role per raw column, over Preprocess's own decision (ml_code/column_roles.py): passed to Profile
    #: and Preprocess as ``--column NAME=ROLE``; ``drop`` leaves the column out.
    columns: Annotated[
        dict[
            Annotated[str, text(r"^[^\r\n]{1,256}$", "a column name")],
            Annotated[ColumnRoleName, one_of(COLUMN_ROLES)],
        ],
        AfterValidator(lambda roles: dict(sorted(roles.items()))),
    ] = Field(default_factory=dict)

    def column_arguments(self) -> list[str]:
        """``--column NAME=ROLE`` for each of ``columns``, by name."""
        return [arg for name, role in self.columns.items() for arg in ("--column", f"{name}={role}")]
