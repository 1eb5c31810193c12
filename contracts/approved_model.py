"""The approved-model file: what the resolve tool writes and the endpoint stack reads.

``python -m release.resolve`` asks the Model Registry (at deploy time) which version to ship and
writes one of these files; the config loader reads it (at synth time, from disk, no AWS call) so
the endpoint stack is built from a fixed, reviewed answer. The deploy build, the CDK app and the
offline demo all import it. The file is JSON with sorted keys, so the same answer is the same
bytes; readers refuse another ``schema_version`` and any unknown field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from ml_code import contract

#: Bumped when a field changes meaning; readers refuse other versions.
SCHEMA_VERSION: Final = 1
#: ``CustomerMetadataProperties`` key of a model version: S3 URI of raw sample payloads
#: (a JSON list of records, no target) taken from that run's test split, for the smoke test.
SMOKE_SAMPLES_METADATA_KEY: Final = "SmokeSamplesUri"
#: ``CustomerMetadataProperties`` key of the problem type a version was trained for (the smoke
#: test checks predictions against it).
PROBLEM_TYPE_METADATA_KEY: Final = "ProblemType"
#: File name of those samples in the preprocess step's test output (one constant, shared with ml_code).
SMOKE_SAMPLES_FILE: Final = contract.SMOKE_SAMPLES_FILE

PackageArn = Annotated[
    str,
    StringConstraints(
        pattern=r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[A-Za-z0-9-]{1,63}/\d+$"
    ),
]
S3Uri = Annotated[str, StringConstraints(pattern=r"^s3://[a-z0-9.-]{3,63}/.+")]
Text = Annotated[str, StringConstraints(min_length=1)]


class ApprovedModelError(ValueError):
    """An approved-model file is missing a field or holds a wrong value; the message names it."""


class ApprovedModel(BaseModel):
    """One approved model version, as the endpoint stack needs it (validated when built)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, protected_namespaces=())

    model_package_arn: PackageArn
    model_package_group: Text
    version: PositiveInt
    image_uri: Text
    model_data_url: S3Uri
    environment: dict[str, str] = Field(default_factory=dict)
    #: DriftCheckBaselines.ModelDataQuality of the version (None if it has none).
    baseline_statistics_uri: S3Uri | None = None
    baseline_constraints_uri: S3Uri | None = None
    smoke_samples_uri: S3Uri | None = None
    #: A challenger the stage serves as a shadow variant beside this version (prod's shadow test);
    #: another version of the same group, without a shadow of its own. Omitted from the file when None.
    shadow: ApprovedModel | None = None
    schema_version: Literal[1] = SCHEMA_VERSION

    @field_validator("version")
    @classmethod
    def _version_of_the_arn(cls, version: int, info: ValidationInfo) -> int:
        arn = info.data.get("model_package_arn")
        if arn is not None and not arn.endswith(f"/{version}"):
            raise ValueError(f"{version} does not match {arn}")
        return version

    @field_validator("shadow")
    @classmethod
    def _a_challenger(cls, shadow: ApprovedModel | None, info: ValidationInfo) -> ApprovedModel | None:
        if shadow is None:
            return None
        if shadow.shadow is not None:
            raise ValueError("a shadow version cannot have a shadow of its own")
        if shadow.model_package_group != info.data.get("model_package_group"):
            raise ValueError(f"{shadow.model_package_group} is not this version's group")
        if shadow.version == info.data.get("version"):
            raise ValueError(f"version {shadow.version} is already the production version")
        return shadow

    @field_validator("environment")
    @classmethod
    def _sorted(cls, environment: dict[str, str]) -> dict[str, str]:
        return dict(sorted(environment.items()))

    def to_json(self) -> str:
        """The file's text: sorted keys, so the same answer is the same bytes."""
        return json.dumps(self.to_mapping(), indent=2, sort_keys=True) + "\n"

    def to_mapping(self) -> dict[str, Any]:
        """The file's fields; ``shadow`` only when set (files without one read as before)."""
        data = self.model_dump(exclude={"shadow"})
        if self.shadow is not None:
            data["shadow"] = self.shadow.to_mapping()
        return data

    @classmethod
    def from_mapping(cls, data: Any, source: str = "approved model") -> ApprovedModel:
        """Validate ``data`` (a parsed file) and return it.

        Raises:
            ApprovedModelError: naming ``source`` and the field at fault.
        """
        if not isinstance(data, Mapping):
            raise ApprovedModelError(f"{source}: expected a JSON object")
        schema = data.get("schema_version")
        if schema != SCHEMA_VERSION:  # before the fields: another version may mean them otherwise
            raise ApprovedModelError(
                f"{source}: field 'schema_version': expected {SCHEMA_VERSION}, got {schema!r}"
            )
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise ApprovedModelError(_message(exc, source)) from None

    @classmethod
    def read(cls, path: Path) -> ApprovedModel:
        """Read and validate the file at ``path``.

        Raises:
            ApprovedModelError: the file is not valid JSON or fails validation.
        """
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ApprovedModelError(f"{path}: not valid JSON ({exc})") from exc
        return cls.from_mapping(data, str(path))

    def write(self, path: Path) -> None:
        """Write the file (creating its folder)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")


def _message(exc: ValidationError, source: str) -> str:
    """One line naming ``source`` and the first field at fault (all unknown fields at once)."""
    errors = exc.errors(include_url=False)
    unknown = sorted(
        ".".join(map(str, error["loc"])) for error in errors if error["type"] == "extra_forbidden"
    )
    if unknown:
        return f"{source}: unknown field(s) {', '.join(unknown)}"
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    if first["type"] == "value_error":  # our own checks say what they got
        return f"{source}: field '{where}': {first['ctx']['error']}"
    return f"{source}: field '{where}': {first['msg']}, got {first['input']!r}"
