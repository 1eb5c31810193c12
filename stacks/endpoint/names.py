"""Names of one endpoint stage: the endpoint, and the model and endpoint config serving a version.

CDK-free, so release tools can import it without loading the CDK.

Why the model and endpoint config names carry a fingerprint: almost every property of an
``AWS::SageMaker::Model`` (containers, execution role, VPC config, isolation) and of an
``AWS::SageMaker::EndpointConfig`` (production variants, data capture, KMS key) is create-only:
changing one makes CloudFormation *replace* the resource, and CloudFormation refuses to replace a
resource with a fixed custom name ("cannot update a stack when a custom-named resource requires
replacing"). With names ``<endpoint>-v<N>`` a changed instance type, instance count, capture
percentage, serverless memory or subnet for an already-deployed version therefore failed at
deploy. Names are now ``<endpoint>-v<N>-<8 hex>``: the hex is the start of a sha256 of a
canonical JSON of exactly the resource's create-only properties (plus the endpoint and version),
so any such change is a new name, CloudFormation creates the new model/config, updates the
endpoint to it (a blue/green deployment with the stage's rollback alarms) and deletes the old
one; an unrelated change (an alarm threshold, the autoscaling bounds, tags) keeps the name and
replaces nothing.

Why not let CloudFormation generate the names: the stage prefix is a trust boundary. Stage
models and configs are named ``<prefix>-<stage>...``, which is what the persona policies keep
people away from (they may only touch ``<prefix>-sandbox-*``); generated names
(``HostedModelModel-AbC123...``) would fall outside it, and would not say which version a
config serves in the console, CloudTrail or the demo's output. A fingerprint keeps names
readable, under the stage prefix, and deterministic: the same inputs give the same name in
every synth (no clock, no randomness).

What synth cannot know: values CloudFormation resolves at deploy (the role ARN, the key ARN, the
bucket name, the IDs of subnets this app creates) are hashed as the construct path of where they
come from (see :mod:`stacks.endpoint.create_only`), plus what synth does know of them (a created
subnet's CIDR). A value that changes at deploy while its construct path and known attributes stay
the same (e.g. a security group replaced because its description changed) is not seen; that
deploy fails as before and any change to the stage (or a new version) names it anew.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Final

from stacks.config_reader import ConfigError

#: SageMaker's limit for EndpointName, ModelName and EndpointConfigName.
SAGEMAKER_NAME_MAX: Final = 63
#: SageMaker's pattern for those names (botocore's service model).
SAGEMAKER_NAME_RE: Final = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
#: Hex characters of the fingerprint: 32 bits, plenty for the few configs one version ever has.
FINGERPRINT_CHARS: Final = 8


def endpoint_name(prefix: str, stage: str) -> str:
    """``<project>-<env>-<stage>``: the endpoint's fixed name (dashboards, alarms and tools use it).

    Raises:
        ConfigError: the name is longer than SageMaker allows (a 32-character project name leaves
            the environment name 22 characters for ``staging``); the message names the keys.
    """
    name = f"{prefix}-{stage}"
    if len(name) > SAGEMAKER_NAME_MAX or not SAGEMAKER_NAME_RE.match(name):
        raise ConfigError(
            f"context keys 'project.name' and 'env': endpoint name {name!r} has {len(name)} "
            f"characters; SageMaker allows at most {SAGEMAKER_NAME_MAX}: shorten the project or "
            "the environment name"
        )
    return name


def fingerprint(create_only: Mapping[str, object]) -> str:
    """The first :data:`FINGERPRINT_CHARS` hex of the sha256 of ``create_only`` as canonical JSON.

    Raises:
        TypeError: a value is not JSON (an unresolved CDK object slipped in).
    """
    canonical = json.dumps(create_only, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:FINGERPRINT_CHARS]


def versioned_name(endpoint: str, version: int, create_only: Mapping[str, object]) -> str:
    """``<endpoint>-v<version>-<fingerprint>``: the model or endpoint config serving ``version``.

    The fingerprint covers the endpoint, the version and ``create_only`` (the resource's
    create-only properties as known at synth). When the whole name would exceed
    :data:`SAGEMAKER_NAME_MAX`, the endpoint part is shortened; the fingerprint still covers
    the full endpoint name, so two stages never share a name.

    Raises:
        ValueError: no room is left for the endpoint part, or the name is not a SageMaker name.
    """
    digest = fingerprint({"endpoint": endpoint, "version": version, "properties": create_only})
    suffix = f"-v{version}-{digest}"
    stem = endpoint[: max(0, SAGEMAKER_NAME_MAX - len(suffix))].rstrip("-")
    name = f"{stem}{suffix}"
    if not stem or len(name) > SAGEMAKER_NAME_MAX or not SAGEMAKER_NAME_RE.match(name):
        raise ValueError(f"cannot name version {version} of endpoint {endpoint!r} within SageMaker's rules")
    return name
