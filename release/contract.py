"""The approved-model file: what the resolve tool writes and the endpoint stack reads.

``python -m release.resolve`` asks the Model Registry (at deploy time) which version to ship and
writes one of these files; ``stacks.config_release`` reads it (at synth time, from disk, no AWS
call) so the endpoint stack is built from a fixed, reviewed answer. Standard library only: the
deploy build, the CDK app and the offline demo all import it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

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

_PACKAGE_ARN: Final = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[A-Za-z0-9-]{1,63}/\d+$"
)
_S3_URI: Final = re.compile(r"^s3://[a-z0-9.-]{3,63}/.+")


class ApprovedModelError(ValueError):
    """An approved-model file is missing a field or holds a wrong value; the message names it."""


@dataclass(frozen=True, kw_only=True)
class ApprovedModel:
    """One approved model version, as the endpoint stack needs it."""

    model_package_arn: str
    model_package_group: str
    version: int
    image_uri: str
    model_data_url: str
    environment: Mapping[str, str] = field(default_factory=dict)
    #: DriftCheckBaselines.ModelDataQuality of the version (None if it has none).
    baseline_statistics_uri: str | None = None
    baseline_constraints_uri: str | None = None
    smoke_samples_uri: str | None = None
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> str:
        """The file's text: sorted keys, so the same answer is the same bytes."""
        data = asdict(self)
        data["environment"] = dict(sorted(self.environment.items()))
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_mapping(cls, data: Any, source: str = "approved model") -> ApprovedModel:
        """Validate ``data`` (a parsed file) and return it.

        Raises:
            ApprovedModelError: naming ``source`` and the field at fault.
        """
        if not isinstance(data, Mapping):
            raise ApprovedModelError(f"{source}: expected a JSON object")
        schema = data.get("schema_version")
        if schema != SCHEMA_VERSION:
            raise ApprovedModelError(
                f"{source}: field 'schema_version': expected {SCHEMA_VERSION}, got {schema!r}"
            )
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ApprovedModelError(f"{source}: unknown field(s) {', '.join(unknown)}")
        arn = _text(data, "model_package_arn", source)
        if not _PACKAGE_ARN.match(arn):
            raise ApprovedModelError(
                f"{source}: field 'model_package_arn': not a versioned model package ARN: {arn!r}"
            )
        version = data.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ApprovedModelError(
                f"{source}: field 'version': expected a positive integer, got {version!r}"
            )
        if not arn.endswith(f"/{version}"):
            raise ApprovedModelError(f"{source}: field 'version': {version} does not match {arn}")
        env = data.get("environment", {})
        if not isinstance(env, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in env.items()
        ):
            raise ApprovedModelError(f"{source}: field 'environment': expected an object of strings")
        optional: dict[str, str | None] = {}
        for name in ("baseline_statistics_uri", "baseline_constraints_uri", "smoke_samples_uri"):
            value = data.get(name)
            if value is not None and (not isinstance(value, str) or not _S3_URI.match(value)):
                raise ApprovedModelError(f"{source}: field '{name}': expected an s3:// URI, got {value!r}")
            optional[name] = value
        model_data = _text(data, "model_data_url", source)
        if not _S3_URI.match(model_data):
            raise ApprovedModelError(
                f"{source}: field 'model_data_url': expected an s3:// URI, got {model_data!r}"
            )
        return cls(
            model_package_arn=arn,
            model_package_group=_text(data, "model_package_group", source),
            version=version,
            image_uri=_text(data, "image_uri", source),
            model_data_url=model_data,
            environment=dict(sorted(env.items())),
            baseline_statistics_uri=optional["baseline_statistics_uri"],
            baseline_constraints_uri=optional["baseline_constraints_uri"],
            smoke_samples_uri=optional["smoke_samples_uri"],
        )

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


def _text(data: Mapping[str, Any], name: str, source: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise ApprovedModelError(f"{source}: field '{name}': expected a non-empty string, got {value!r}")
    return value
