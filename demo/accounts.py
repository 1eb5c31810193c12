"""`make demo ENV=multi`: who acts in which account (issue 13's offline multi-account story).

The stand-in keys everything by account (moto), and credentials carry the account (assumed roles):

- the tooling side (the training pipeline, the registry, the approval, the resolve) acts in the
  account the pipeline stack's environment names (:func:`tooling_side`);
- ``emulator.deploy`` puts each endpoint stack in its stage's account, as that account's CDK
  bootstrap deploy role (what ``cdk deploy`` assumes from the deploy build);
- the deploy build tags the version's objects as shipped to the stage (:func:`tag_shipped`),
  and the model is read from the tooling bucket as the stage's model execution role
  (:func:`model_reader`), which the tooling bucket and key policies admit by name and tag;
- the smoke test goes through the stage's smoke role, assumed as ``release.smoke --role-arn``
  assumes it (``release.stage_role``); samples and the registry are read on the tooling side.

For a single-account environment every function here is the identity: the demo runs as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.approved_model import ApprovedModel
from contracts.layout import RELEASED, released_tag
from contracts.names import deploy_role_name
from demo.synth import ROOT
from emulator.deploy import DeployResult
from emulator.local_aws import LocalAws
from emulator.provision import OfflinePipeline
from emulator.standins import REGION
from release.promote import release_target
from release.release_tag import released_objects, tag_released
from release.stage_role import partition_of, role_session, session_name


def tooling_side(aws: LocalAws, pipeline: OfflinePipeline) -> LocalAws:
    """``aws`` acting in the training pipeline's account (itself when the stack is env-agnostic)."""
    return aws.in_account(pipeline.account)


def caller(aws: LocalAws) -> str:
    """The ARN ``aws``'s credentials act as (STS ``GetCallerIdentity``)."""
    return aws.client("sts").get_caller_identity()["Arn"]


def tooling_lines(tooling: LocalAws) -> list[str]:
    """What the demo prints about the tooling side; nothing in a single-account environment."""
    if tooling.role_arn is None:
        return []
    return [f"  tooling account {tooling.account}: pipeline, registry and training act as {caller(tooling)}"]


def tag_shipped(tooling: LocalAws, prefix: str, stage: str, approved: ApprovedModel) -> str:
    """Tag the version's model file and baseline as shipped to ``stage``, as its deploy build does
    (``release.release_tag``, as ``<prefix>-<stage>-deploy`` in the tooling account) before deploying
    into the stage's account, whose roles read only tagged objects; returns what the demo prints."""
    role = f"arn:{partition_of(REGION)}:iam::{tooling.account}:role/{deploy_role_name(prefix, stage)}"
    build = tooling.assume_role(role, "deploy-build")
    objects = released_objects(approved)
    for uri in objects:
        tag_released(build.client("s3"), uri, stage)
    return (
        f"    tagged {len(objects)} object(s) of v{approved.version} {released_tag(stage)}={RELEASED} "
        f"as {caller(build)} (release.release_tag)"
    )


def model_reader(aws: LocalAws, deployed: DeployResult) -> LocalAws:
    """Who reads the model artifact for the deployed endpoint: SageMaker, as the model's execution
    role in the stage account, for a stack deployed in another account; else ``aws`` itself."""
    if deployed.role_arn is None or deployed.account == aws.account:
        return aws
    sagemaker = aws.in_account(deployed.account).client("sagemaker")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=deployed.endpoint_config_name)
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    return aws.assume_role(model["ExecutionRoleArn"], "sagemaker-model")


@dataclass(frozen=True)
class SmokeIdentity:
    """The smoke test of a stage in another account: the role it assumed and the endpoint it reaches."""

    caller_arn: str
    endpoint_arn: str
    endpoint_status: str

    def lines(self) -> list[str]:
        return [
            f"    smoke test as {self.caller_arn} (release.smoke --role-arn's session)",
            f"    it invokes {self.endpoint_arn} ({self.endpoint_status}); the locally served model answers",
        ]


def smoke_identity(tooling: LocalAws, env_name: str, stage: str) -> SmokeIdentity | None:
    """Assume ``stage``'s smoke role from the tooling side as ``release.smoke --role-arn`` does, and
    find the endpoint its invocations reach: the one of that name in the role's account (what
    SageMaker Runtime resolves an endpoint name to). None for a stage in the tooling account."""
    target = release_target(ROOT, env_name, stage)
    role = target.smoke_role_arn(partition_of(REGION))
    if role is None:
        return None
    session = role_session(tooling.client("sts"), role, name=session_name(target.endpoint), region=REGION)
    identity = session.client("sts", endpoint_url=tooling.endpoint_url).get_caller_identity()
    # The stand-in's SageMaker Runtime (the smoke role itself may only invoke, not describe).
    runtime_view = tooling.in_account(identity["Account"]).client("sagemaker")
    endpoint = runtime_view.describe_endpoint(EndpointName=target.endpoint)
    return SmokeIdentity(identity["Arn"], endpoint["EndpointArn"], endpoint["EndpointStatus"])
