"""The ``batch`` section (issue 16): its keys, defaults and errors, each naming ``batch.<key>``."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from contracts.config import BatchConfig, ConfigError, load_config
from contracts.layout import DEFAULT_BATCH_INPUT_PREFIX

CONTEXT = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]


def _load(batch: Any, env: str = "dev", **instances: Any) -> BatchConfig:
    context = copy.deepcopy({k: CONTEXT[k] for k in ("env", "project", "environments")})
    context["environments"][env]["batch"] = batch
    if instances:
        context["environments"][env]["instances"] = instances
    return load_config(context, env).env.batch


def test_off_by_default() -> None:
    # GIVEN an environment that says nothing of batch scoring
    context = copy.deepcopy(CONTEXT)
    context["environments"]["staging"].pop("batch", None)
    # THEN it has none (no pipeline, no schedule)
    got = load_config(context, "staging").env.batch
    assert got == BatchConfig()
    assert not got.enabled
    assert got.schedule is None


def test_defaults() -> None:
    got = _load({"enabled": True})
    assert (got.instance_count, got.max_payload_mb, got.max_concurrent_transforms) == (1, 6, 1)
    assert got.key_column is None
    assert got.drift_check is True
    assert got.input_uri is None
    assert got.input_uri_for("bucket") == f"s3://bucket/{DEFAULT_BATCH_INPUT_PREFIX}"
    assert got.instance_type_or("ml.m5.large") == "ml.m5.large"


def test_keys_are_read_by_their_camel_case_names() -> None:
    got = _load(
        {
            "enabled": True,
            "schedule": "cron(0 2 * * ? *)",
            "inputUri": "s3://scores-in/daily/",
            "instanceType": "ml.m5.xlarge",
            "instanceCount": 3,
            "maxPayloadMb": 2,
            "maxConcurrentTransforms": 4,
            "keyColumn": "row_id",
            "driftCheck": False,
        }
    )
    assert got == BatchConfig(
        enabled=True,
        schedule="cron(0 2 * * ? *)",
        input_uri="s3://scores-in/daily/",
        instance_type="ml.m5.xlarge",
        instance_count=3,
        max_payload_mb=2,
        max_concurrent_transforms=4,
        key_column="row_id",
        drift_check=False,
    )
    assert got.input_uri_for("bucket") == "s3://scores-in/daily/"
    assert got.instance_type_or("ml.m5.large") == "ml.m5.xlarge"


def test_null_means_the_default() -> None:
    assert _load({"enabled": True, "maxPayloadMb": None}).max_payload_mb == 6


@pytest.mark.parametrize(
    ("batch", "key", "text"),
    [
        ({"enabled": "yes"}, "batch.enabled", "true or false"),
        ({"schedule": "daily"}, "batch.schedule", "rate(...) or cron(...)"),
        ({"inputUri": "s3://bucket/data/batch"}, "batch.inputUri", "an S3 folder URI"),
        ({"inputUri": "/data/batch/"}, "batch.inputUri", "an S3 folder URI"),
        ({"instanceType": "m5.large"}, "batch.instanceType", "a SageMaker instance type"),
        ({"instanceCount": 0}, "batch.instanceCount", "an integer from 1 to 10"),
        ({"instanceCount": 11}, "batch.instanceCount", "an integer from 1 to 10"),
        ({"maxPayloadMb": 7}, "batch.maxPayloadMb", "an integer from 1 to 6"),
        ({"maxConcurrentTransforms": 17}, "batch.maxConcurrentTransforms", "an integer from 1 to 16"),
        ({"keyColumn": " row_id"}, "batch.keyColumn", "a column name"),
        ({"keyColumn": "a,b"}, "batch.keyColumn", "no comma"),
        ({"driftCheck": 1}, "batch.driftCheck", "true or false"),
        ({"enable": True}, "batch.enable", "is not a known setting"),
    ],
)
def test_bad_values_name_their_key(batch: dict[str, Any], key: str, text: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(batch)
    assert f"'environments.dev.{key}'" in str(raised.value)
    assert text in str(raised.value)


def test_the_instance_type_must_be_allowed() -> None:
    # GIVEN an instance type outside instances.allowed
    with pytest.raises(ConfigError) as raised:
        _load({"enabled": True, "instanceType": "ml.c5.xlarge"})
    # THEN the error names batch.instanceType and the allowlist
    assert "'environments.dev.batch.instanceType'" in str(raised.value)
    assert "ml.m5.large, ml.m5.xlarge" in str(raised.value)
    # and once allowed, it is taken
    allowed = ["ml.c5.xlarge", "ml.m5.large", "ml.m5.xlarge"]
    assert _load({"instanceType": "ml.c5.xlarge"}, allowed=allowed).instance_type == "ml.c5.xlarge"
