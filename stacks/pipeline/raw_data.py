"""The steps that read the raw data: their shared arguments and input, and the Profile step.

With more than one processing instance, each reads its share of the input's objects
(``ShardedByS3Key``), so each must know what the others saw before it fits anything: the Profile
step writes every instance's mergeable statistics (``<host>.json``), and every Preprocess
instance reads them all and fits the same transformer (ml_code/steps/profile.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ml_code import contract
from stacks.pipeline import requests as rq
from stacks.pipeline.expressions import Json
from stacks.pipeline.parameters import PipelineParameters
from stacks.pipeline.props import DefinitionProps
from stacks.pipeline.steps import PROCESSING, JobStep


def data_arguments(props: DefinitionProps, p: PipelineParameters) -> list[Any]:
    """What Profile and Preprocess both read the raw data by (``pipeline.columns``: ``--column N=ROLE``)."""
    return [
        "--target-column", p.target.expr, "--problem-type", p.problem.expr,
        "--chunk-rows", str(props.chunk_rows), "--sample-rows", str(props.sample_rows),
        *props.column_arguments,
    ]  # fmt: skip


def raw_data_input(props: DefinitionProps, p: PipelineParameters) -> Json:
    """The raw data input: with more than one instance, each reads its share of the objects."""
    sharded = props.processing_instances > 1
    return rq.s3_input("data", p.input_uri.expr, contract.RAW_DATA_DIR, sharded=sharded)


def profile_step(
    props: DefinitionProps,
    p: PipelineParameters,
    entrypoint: Sequence[str],
    code_input: Json,
    output_uri: Json,
) -> JobStep:
    """Each processing instance's mergeable statistics of its share of the raw data (network-isolated)."""
    return JobStep(
        name="Profile",
        type=PROCESSING,
        description="Profile each instance's share of the raw data (statistics Preprocess merges)",
        arguments=rq.processing_request(
            job=props.job,
            instance_type=p.processing_type.expr,
            instance_count=props.processing_instances,
            entrypoint=entrypoint,
            arguments=data_arguments(props, p),
            inputs=[code_input, raw_data_input(props, p)],
            outputs=[rq.s3_output(contract.PROFILE_OUTPUT, output_uri, contract.PROFILE_DIR)],
            network_isolation=True,
        ),
    )
