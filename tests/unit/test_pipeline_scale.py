"""The training definition with ``pipeline.scale`` above one instance (issue 14): a Profile step, jobs
on N instances, the raw data and the splits dealt out by S3 key, every request still valid for its API
and still what the SageMaker SDK compiles."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from test_pipeline_definition import _inputs, _outputs, _validate, props

from ml_code import contract
from stacks.pipeline.definition import build_definition


def scaled_definition(processing: int = 2, training: int = 3) -> dict[str, Any]:
    scaled = dataclasses.replace(
        props(),
        processing_instances=processing,
        training_instances=training,
        chunk_rows=5000,
        sample_rows=2000,
    )
    definition: dict[str, Any] = json.loads(build_definition(scaled, name="demo-dev-training"))
    return definition


@pytest.fixture(scope="module")
def steps() -> dict[str, dict[str, Any]]:
    return {s["Name"]: s for s in scaled_definition()["Steps"]}


def _channels(step: dict[str, Any]) -> dict[str, str]:
    return {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3DataDistributionType"]
        for c in step["Arguments"]["InputDataConfig"]
    }


def test_profile_runs_first_on_every_processing_instance_over_its_share_of_the_data(steps):
    assert list(steps)[:4] == ["Profile", "Preprocess", "Train", "Evaluate"]
    profile = steps["Profile"]["Arguments"]
    assert profile["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 2
    assert _inputs(steps["Profile"])["data"]["S3DataDistributionType"] == "ShardedByS3Key"
    assert profile["AppSpecification"]["ContainerEntrypoint"][2].endswith('exec python3 profile_data.py "$@"')
    assert _outputs(steps["Profile"])[contract.PROFILE_OUTPUT]["LocalPath"] == contract.PROFILE_DIR
    assert profile["NetworkConfig"]["EnableNetworkIsolation"] is True


def test_preprocess_reads_its_share_and_every_profile_and_cuts_one_shard_per_training_instance(steps):
    preprocess = steps["Preprocess"]["Arguments"]
    assert preprocess["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 2
    inputs = _inputs(steps["Preprocess"])
    assert inputs["data"]["S3DataDistributionType"] == "ShardedByS3Key"
    assert inputs["profiles"] == {
        "S3Uri": {"Get": "Steps.Profile.ProcessingOutputConfig.Outputs['profile'].S3Output.S3Uri"},
        "LocalPath": contract.PROFILES_INPUT_DIR,
        "S3DataType": "S3Prefix",
        "S3InputMode": "File",
        "S3DataDistributionType": "FullyReplicated",
    }
    arguments = preprocess["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--shards") + 1] == "3"
    assert arguments[arguments.index("--chunk-rows") + 1] == "5000"
    assert arguments[arguments.index("--sample-rows") + 1] == "2000"


def test_train_spreads_the_splits_over_its_instances_and_gives_each_the_transformer(steps):
    train = steps["Train"]["Arguments"]
    assert train["ResourceConfig"]["InstanceCount"] == 3
    assert _channels(steps["Train"]) == {
        "train": "ShardedByS3Key",
        "validation": "ShardedByS3Key",
        "transformer": "FullyReplicated",
        "code": "FullyReplicated",
    }
    assert train["AlgorithmSpecification"]["ContainerArguments"] == ["--chunk-rows", "5000"]
    # Distributed XGBoost talks between the instances: the traffic between them is encrypted.
    assert train["EnableInterContainerTrafficEncryption"] is True


def test_external_memory_is_a_training_argument():
    paged = dataclasses.replace(props(), training_instances=2, external_memory=True)
    steps = {s["Name"]: s for s in json.loads(build_definition(paged, name="x"))["Steps"]}
    arguments = steps["Train"]["Arguments"]["AlgorithmSpecification"]["ContainerArguments"]
    assert arguments == ["--chunk-rows", "100000", "--external-memory"]


def test_evaluate_stays_on_one_instance(steps):
    assert steps["Evaluate"]["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 1


def test_one_instance_has_no_profile_step_and_shards_nothing():
    steps = {s["Name"]: s for s in scaled_definition(1, 1)["Steps"]}
    assert "Profile" not in steps
    assert _inputs(steps["Preprocess"])["data"]["S3DataDistributionType"] == "FullyReplicated"
    assert "profiles" not in _inputs(steps["Preprocess"])
    assert set(_channels(steps["Train"]).values()) == {"FullyReplicated"}


def test_training_alone_can_scale():
    steps = {s["Name"]: s for s in scaled_definition(1, 2)["Steps"]}
    assert "Profile" not in steps
    assert _channels(steps["Train"])["train"] == "ShardedByS3Key"
    assert steps["Train"]["Arguments"]["ResourceConfig"]["InstanceCount"] == 2


@pytest.mark.parametrize(
    ("step", "operation", "generated"),
    [
        ("Profile", "CreateProcessingJob", {"ProcessingJobName": "pipelines-x-Profile"}),
        ("Preprocess", "CreateProcessingJob", {"ProcessingJobName": "pipelines-x-Preprocess"}),
        ("Train", "CreateTrainingJob", {"TrainingJobName": "pipelines-x-Train"}),
        ("Evaluate", "CreateProcessingJob", {"ProcessingJobName": "pipelines-x-Evaluate"}),
    ],
)
def test_scaled_requests_are_valid_for_their_api(steps, step, operation, generated):
    assert _validate(operation, steps[step]["Arguments"], **generated) == ""
