"""The persona policies' shared statements: listing, job runtime, and Studio spaces and apps.

Studio statements follow AWS's documented owner pattern for private and shared spaces
("Set up permissions for spaces", https://docs.aws.amazon.com/sagemaker/latest/dg/domain-space-permissions.html):
``${sagemaker:DomainId}`` and ``${sagemaker:UserProfileName}`` are policy variables SageMaker sets
for the Studio user's session, so one persona role shared by many users still lets each user
create, change and delete only the spaces (and the apps in private spaces) it owns.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

_PROFILE = "user-profile/${sagemaker:DomainId}/${sagemaker:UserProfileName}"


def _arn(service: str, resource: str) -> str:
    return f"arn:{cdk.Aws.PARTITION}:{service}:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:{resource}"


def list_statement() -> iam.PolicyStatement:
    """List*/Search calls: SageMaker's IAM model has no resource-level permissions for them."""
    return iam.PolicyStatement(
        sid="ListAndSearch",
        actions=[
            "sagemaker:ListApps",
            "sagemaker:ListSpaces",
            "sagemaker:ListUserProfiles",
            "sagemaker:ListDomains",
            "sagemaker:ListProcessingJobs",
            "sagemaker:ListTrainingJobs",
            "sagemaker:ListPipelines",
            "sagemaker:ListPipelineExecutions",
            "sagemaker:ListModelPackageGroups",
            "sagemaker:ListModelPackages",
            "sagemaker:ListModels",
            "sagemaker:ListEndpoints",
            "sagemaker:Search",
        ],
        resources=["*"],
    )


def studio_statements(
    domain_id: str, *, shared_spaces: bool, instance_types: Sequence[str]
) -> list[iam.PolicyStatement]:
    """Studio apps and spaces of ``domain_id``: any user's own, never another user's.

    ``shared_spaces`` False (the approver): private spaces only. A shared space's apps run as the
    domain's default space role (a builder's), which would let one person register and approve.
    Apps run only on ``instance_types`` (or ``system``, the type of Studio's own lightweight apps),
    in the form AWS documents for limiting Studio instance types: a Deny when any requested type
    is another (a request naming no type gets the space's default, set by the admin).
    """
    space = _arn("sagemaker", f"space/{domain_id}/*")
    app = _arn("sagemaker", f"app/{domain_id}/*")
    statements = [
        *_describe_statements(domain_id, app=app, space=space),
        *_owner_statements(domain_id, app=app, space=space, shared_spaces=shared_spaces),
        iam.PolicyStatement(
            sid="AppsOnAllowedInstanceTypes",
            effect=iam.Effect.DENY,
            actions=["sagemaker:CreateApp"],
            resources=[app],
            conditions={
                "ForAnyValue:StringNotEquals": {"sagemaker:InstanceTypes": [*instance_types, "system"]}
            },
        ),
    ]
    if shared_spaces:
        # Any member may start an app in a shared space (that is what sharing is for).
        statements.append(
            iam.PolicyStatement(
                sid="AppsInSharedSpaces",
                actions=["sagemaker:CreateApp", "sagemaker:DeleteApp"],
                resources=[app],
                conditions={"StringEquals": {"sagemaker:SpaceSharingType": ["Shared"]}},
            )
        )
    return statements


def _describe_statements(domain_id: str, *, app: str, space: str) -> list[iam.PolicyStatement]:
    """Describe the domain, its apps, spaces and user profiles."""
    return [
        iam.PolicyStatement(
            sid="DescribeStudio",
            actions=["sagemaker:DescribeApp", "sagemaker:DescribeSpace"],
            resources=[app, space],
        ),
        iam.PolicyStatement(
            sid="OwnUserProfile",
            actions=["sagemaker:DescribeUserProfile"],
            resources=[_arn("sagemaker", f"user-profile/{domain_id}/*")],
        ),
        iam.PolicyStatement(
            sid="DescribeDomain",
            actions=["sagemaker:DescribeDomain"],
            resources=[_arn("sagemaker", f"domain/{domain_id}")],
        ),
    ]


def _owner_statements(
    domain_id: str, *, app: str, space: str, shared_spaces: bool
) -> list[iam.PolicyStatement]:
    """Create, change and delete the user's own apps and spaces (private, or shared too), and tag them."""
    sharing = ["Private", "Shared"] if shared_spaces else ["Private"]
    owner = _arn("sagemaker", _PROFILE)
    return [
        # Apps of a user profile (not of a space) carry no owner: the ARN names the profile.
        iam.PolicyStatement(
            sid="UserProfileApps",
            actions=["sagemaker:CreateApp", "sagemaker:DeleteApp"],
            resources=[_arn("sagemaker", f"app/{domain_id}/" + "${sagemaker:UserProfileName}/*")],
            conditions={"Null": {"sagemaker:OwnerUserProfileArn": "true"}},
        ),
        iam.PolicyStatement(
            sid="OwnSpacesOnly",
            actions=["sagemaker:CreateSpace", "sagemaker:UpdateSpace", "sagemaker:DeleteSpace"],
            resources=[space],
            conditions={
                "ArnLike": {"sagemaker:OwnerUserProfileArn": owner},
                "StringEquals": {"sagemaker:SpaceSharingType": sharing},
            },
        ),
        iam.PolicyStatement(
            sid="AppsInOwnPrivateSpaces",
            actions=["sagemaker:CreateApp", "sagemaker:DeleteApp"],
            resources=[app],
            conditions={
                "ArnLike": {"sagemaker:OwnerUserProfileArn": owner},
                "StringEquals": {"sagemaker:SpaceSharingType": ["Private"]},
            },
        ),
        iam.PolicyStatement(
            sid="TagOnCreate",
            actions=["sagemaker:AddTags"],
            resources=[app, space],
            conditions={"Null": {"sagemaker:TaggingAction": "false"}},
        ),
    ]


def runtime_statements(prefix: str, vpc_id: str) -> list[iam.PolicyStatement]:
    """What SageMaker needs while running a job with the role: logs, metrics, ENIs, images."""
    vpc_arn = _arn("ec2", f"vpc/{vpc_id}")
    return [
        iam.PolicyStatement(
            actions=[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogStreams",
            ],
            resources=[_arn("logs", "log-group:/aws/sagemaker/*")],
        ),
        iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
        ),
        iam.PolicyStatement(
            actions=[
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeVpcs",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeDhcpOptions",
            ],
            resources=["*"],
        ),
        iam.PolicyStatement(
            actions=[
                "ec2:CreateNetworkInterface",
                "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterface",
                "ec2:DeleteNetworkInterfacePermission",
            ],
            resources=["*"],
            conditions={"ArnEquals": {"ec2:Vpc": vpc_arn}},
        ),
        iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]),
        iam.PolicyStatement(
            actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
            resources=[_arn("ecr", f"repository/{prefix}-*")],
        ),
    ]
