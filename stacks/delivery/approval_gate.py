"""The deploy pipeline's manual gate before prod: what the reviewer is told, through the topic.

The text names the staged version (``#{Staging.MODEL_VERSION}``); after a shadow test, also the
report's one-line summary (``#{Shadow.SHADOW_SUMMARY}``: pairs, agreement, PSI, KS and p90 latency of
both variants, or "not enough shadow traffic"), and links to the endpoint the reviewer should look
at: staging's, or prod's (which carries the shadow variant) after a shadow test.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_sns as sns

from contracts.names import endpoint_name


def approval_gate(
    prefix: str,
    group: str,
    staging_stage: str,
    prod_stage: str,
    topic: sns.ITopic,
    *,
    version: str,
    shadow_summary: str | None = None,
) -> actions.ManualApprovalAction:
    """The manual approval between the stages, announced on ``topic`` with the staged ``version``
    (and ``shadow_summary``, a CodePipeline variable reference, after a shadow test)."""
    staging, prod = endpoint_name(prefix, staging_stage), endpoint_name(prefix, prod_stage)
    tested = f"passed its smoke test on {staging}"
    if shadow_summary is not None:
        tested += f" and ran as the shadow of {prod}: {shadow_summary}"
    return actions.ManualApprovalAction(
        action_name="ApproveProd",
        notification_topic=topic,
        external_entity_link=(
            f"https://{cdk.Aws.REGION}.console.aws.amazon.com/sagemaker/home?region={cdk.Aws.REGION}"
            f"#/endpoints/{staging if shadow_summary is None else prod}"
        ),
        additional_information=(
            f"Model version {version} of {group} {tested}. Approve to roll version {version} out to "
            f"{prod} (canary, alarm rollback)."
        ),
    )
