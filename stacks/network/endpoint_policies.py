"""VPC endpoint policies: from inside the VPC, only this account's principals reach this account's
resources, with the cross-account reads AWS documents for SageMaker.

Without a policy an endpoint admits any principal acting on any resource, so code in a Studio
app or a job could copy data to a bucket (or a Studio domain) in someone else's account through
our own endpoints. Every endpoint gets two statements:

- **Allow** any action when ``aws:PrincipalAccount`` is this account: credentials from elsewhere
  (and anonymous requests, which carry no principal account) are refused.
- **Deny** any action when ``aws:ResourceAccount`` is present *and* names another account:
  ``StringNotEquals`` on the key together with ``Null: false``. Many actions name no resource and
  so may carry no resource account (``sts:GetCallerIdentity``, ``ecr:GetAuthorizationToken``,
  ``cloudwatch:PutMetricData``, ``s3:ListAllMyBuckets``). Neither ``StringNotEquals`` alone nor
  ``StringNotEqualsIfExists`` can spare them in a Deny: a negated operator is *true* when the key
  is missing, and ``...IfExists`` makes any condition true when the key is missing (IAM User Guide,
  "Condition operators"), so both would deny every keyless call, image pulls included. The
  ``Null: false`` guard limits the Deny to requests that do name a resource owner; keyless ones
  are still bounded by the Allow (this account's principals). A Deny also wins over an
  exception's Allow, so each exception is carved out of the Deny explicitly.

What legitimately crosses accounts, and what this module allows for it:

- ECR image layers: ECR serves layers from AWS-owned S3 buckets through URLs it presigns itself,
  so the S3 request is neither this account's principal nor this account's resource. The S3
  gateway policy allows exactly ``s3:GetObject`` on ``arn:<partition>:s3:::prod-<region>-starport-
  layer-bucket/*`` (ECR User Guide, "Minimum Amazon S3 bucket permissions for Amazon ECR",
  https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html#ecr-minimum-s3-perms).
  The example there also allows ``s3:PutObject``; nothing in this VPC pushes images, so it is left out.
- The SageMaker XGBoost image: every job and the endpoints pull it (with this account's
  execution role) from an AWS-owned ECR registry, one account per region. The ECR endpoints
  admit that account as a resource account (the caller passes it, e.g. ``Fn::FindInMap``).
- Studio and notebook-instance browser endpoints (``aws.sagemaker.<region>.studio`` /
  ``.notebook``): AWS documents endpoint policies for both, scoped by *resource* (``CreateApp``
  on ``app/<domain>/*``, ``CreatePresignedDomainUrl`` on ``user-profile/<domain>/*``,
  ``CreatePresignedNotebookInstanceUrl`` on a notebook instance:
  https://docs.aws.amazon.com/sagemaker/latest/dg/studio-interface-endpoint.html,
  https://docs.aws.amazon.com/sagemaker/latest/dg/notebook-interface-endpoint.html). Requests
  there are authorised by a presigned URL's token, not a SigV4 signature, and AWS documents no
  principal condition for them, so their Allow is "any SageMaker action on this account's
  SageMaker resources" rather than ``aws:PrincipalAccount``. That still closes the path that
  matters: opening another account's Studio domain or notebook instance from inside the VPC.
- The MLflow endpoint (``aws.sagemaker.<region>.experiments``, only with ``tracking.enabled``):
  the MLflow UI opens through a presigned URL and the plugin's REST calls are SigV4-signed, so,
  as AWS's example policy for it does, it allows ``sagemaker-mlflow:*`` on this account's
  ``mlflow-tracking-server/*`` (scoped by resource), beside the foreign-resource Deny.
- A stage's network in another account (:mod:`stacks.stage`): SageMaker downloads the approved
  model.tar.gz, with the stage's model role, from the tooling account's artifact bucket, and the
  stage's drift check downloads the deployed version's baseline from there with its own role. Its
  S3 gateway policy carves ``s3:GetObject`` on training outputs and baselines
  (``arn:<partition>:s3:::*/`` + :data:`contracts.layout.MODEL_ARTIFACTS_PATTERN` and
  :data:`contracts.layout.BASELINE_PATTERN`) out of the foreign-object Deny, and a Deny of its own
  refuses those patterns in any account but this one and the tooling one. The bucket's name is
  unknown here (CloudFormation names it in the tooling account), so the account names the owner;
  the tooling bucket's policy admits only the stage's model role (models) and drift role
  (baselines). No Allow of its own is needed: the reader is this account's principal.
- Within the account (no exception needed): STS AssumeRole of this account's roles, the data
  key (KMS), this account's log groups and metrics, SageMaker API and Runtime calls on this
  account's jobs, pipelines, registry and endpoints, EventBridge, SSM, CodeArtifact.

Deliberately refused from inside the VPC: every other account's bucket (public datasets,
SageMaker sample files, JumpStart's model buckets), other accounts' ECR images, and anonymous
S3 access. Not verified against a live deployment (the tests run offline): whether Studio's own
app images or JupyterLab extensions are fetched through this VPC; AWS documents no such
requirement for VpcOnly domains, and if one appears it belongs here as a named exception.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

from contracts import layout

#: Interface endpoints (service suffix) reached by a browser holding a presigned URL.
BROWSER_ENDPOINTS = frozenset({"studio", "notebook"})
#: The interface endpoint of SageMaker's managed MLflow tracking servers.
MLFLOW_ENDPOINT = "experiments"
#: Interface endpoints through which images are pulled.
ECR_ENDPOINTS = frozenset({"ecr.api", "ecr.dkr"})


def starport_layers() -> str:
    """ARN of the objects in the region's AWS-owned bucket that holds ECR image layers."""
    return f"arn:{cdk.Aws.PARTITION}:s3:::prod-{cdk.Aws.REGION}-starport-layer-bucket/*"


def tooling_outputs() -> list[str]:
    """ARN patterns of training outputs (model.tar.gz) and baselines in any bucket; a condition
    names the owner."""
    return [
        f"arn:{cdk.Aws.PARTITION}:s3:::*/{pattern}"
        for pattern in (layout.MODEL_ARTIFACTS_PATTERN, layout.BASELINE_PATTERN)
    ]


def _deny_foreign_resources(
    sid: str,
    accounts: Sequence[str],
    *,
    actions: Sequence[str] | None = None,
    not_actions: Sequence[str] | None = None,
    resources: Sequence[str] = ("*",),
    not_resources: Sequence[str] | None = None,
) -> iam.PolicyStatement:
    """Deny requests that name a resource owner, when it is not one of ``accounts``."""
    return iam.PolicyStatement(
        sid=sid,
        effect=iam.Effect.DENY,
        principals=[iam.AnyPrincipal()],
        actions=list(actions) if actions else None,
        not_actions=list(not_actions) if not_actions else None,
        resources=None if not_resources else list(resources),
        not_resources=list(not_resources) if not_resources else None,
        conditions={
            "StringNotEquals": {"aws:ResourceAccount": list(accounts)},
            "Null": {"aws:ResourceAccount": "false"},
        },
    )


def account_boundary(*, resource_accounts: Sequence[str] = ()) -> list[iam.PolicyStatement]:
    """Statements for an interface endpoint: this account's principals, this account's resources.

    ``resource_accounts`` are further accounts whose resources may be reached (an AWS-owned image
    registry for the ECR endpoints).
    """
    allow = iam.PolicyStatement(
        sid="OnlyThisAccountsPrincipals",
        principals=[iam.AnyPrincipal()],
        actions=["*"],
        resources=["*"],
        conditions={"StringEquals": {"aws:PrincipalAccount": cdk.Aws.ACCOUNT_ID}},
    )
    deny = _deny_foreign_resources(
        "OnlyThisAccountsResources", [cdk.Aws.ACCOUNT_ID, *resource_accounts], actions=["*"]
    )
    return [allow, deny]


def browser_boundary() -> list[iam.PolicyStatement]:
    """Statements for the Studio and notebook endpoints: this account's SageMaker resources only."""
    allow = iam.PolicyStatement(
        sid="OnlyThisAccountsSageMakerResources",
        principals=[iam.AnyPrincipal()],
        actions=["sagemaker:*"],
        resources=[f"arn:{cdk.Aws.PARTITION}:sagemaker:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:*"],
    )
    return [allow, _deny_foreign_resources("OnlyThisAccountsResources", [cdk.Aws.ACCOUNT_ID], actions=["*"])]


def mlflow_boundary() -> list[iam.PolicyStatement]:
    """Statements for the MLflow (``experiments``) endpoint: this account's tracking servers only.

    The shape AWS documents ("Create a VPC Endpoint Policy for SageMaker AI MLflow"): the MLflow
    UI's presigned URL and the plugin's SigV4 calls both go through it, so it is scoped by resource.
    """
    allow = iam.PolicyStatement(
        sid="OnlyThisAccountsTrackingServers",
        principals=[iam.AnyPrincipal()],
        actions=["sagemaker-mlflow:*"],
        resources=[
            f"arn:{cdk.Aws.PARTITION}:sagemaker:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:mlflow-tracking-server/*"
        ],
    )
    return [allow, _deny_foreign_resources("OnlyThisAccountsResources", [cdk.Aws.ACCOUNT_ID], actions=["*"])]


def interface_endpoint_policy(
    service_suffix: str, *, image_registry_accounts: Sequence[str]
) -> list[iam.PolicyStatement]:
    """The statements for the interface endpoint of ``service_suffix`` (``sts``, ``ecr.dkr``, ...)."""
    if service_suffix in BROWSER_ENDPOINTS:
        return browser_boundary()
    if service_suffix == MLFLOW_ENDPOINT:
        return mlflow_boundary()
    extra = image_registry_accounts if service_suffix in ECR_ENDPOINTS else ()
    return account_boundary(resource_accounts=extra)


def s3_gateway_policy(*, model_artifact_account: str | None = None) -> list[iam.PolicyStatement]:
    """Statements for the S3 gateway endpoint: the account boundary plus ECR's layer bucket.

    The layer bucket is carved out of the foreign-resource Deny for ``s3:GetObject`` only: one
    Deny covers every other action, a second covers ``s3:GetObject`` on anything but the layers.
    ``model_artifact_account`` (a stage's network in another account: the tooling account) adds
    the training outputs and baselines of that account to the carve-out, and a third Deny that
    refuses those objects of any other account.
    """
    allow, _ = account_boundary()
    layers = iam.PolicyStatement(
        sid="EcrImageLayers",
        principals=[iam.AnyPrincipal()],  # ECR presigns these requests with its own credentials
        actions=["s3:GetObject"],
        resources=[starport_layers()],
    )
    deny_other_actions = _deny_foreign_resources(
        "OnlyThisAccountsResources", [cdk.Aws.ACCOUNT_ID], not_actions=["s3:GetObject"]
    )
    if model_artifact_account is None:
        deny_other_reads = _deny_foreign_resources(
            "OnlyThisAccountsObjectsAndEcrLayers", [cdk.Aws.ACCOUNT_ID], actions=["s3:GetObject"],
            not_resources=[starport_layers()],
        )  # fmt: skip
        return [allow, layers, deny_other_actions, deny_other_reads]
    deny_other_reads = _deny_foreign_resources(
        "OnlyThisAccountsObjectsEcrLayersAndToolingOutputs", [cdk.Aws.ACCOUNT_ID], actions=["s3:GetObject"],
        not_resources=[starport_layers(), *tooling_outputs()],
    )  # fmt: skip
    deny_foreign_models = _deny_foreign_resources(
        "OnlyToolingModelsAndBaselines", [cdk.Aws.ACCOUNT_ID, model_artifact_account],
        actions=["s3:GetObject"], resources=tooling_outputs(),
    )  # fmt: skip
    return [allow, layers, deny_other_actions, deny_other_reads, deny_foreign_models]
