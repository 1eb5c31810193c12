"""What to do after the use-case factory added or removed a use case, with its real names.

Every name comes from :mod:`contracts.names` and the use case's prefix (``<project>-<env>-<use
case>``), so what is printed is what the synth creates. Its stacks are selected with the CDK CLI's
pattern ``'<prefix>-*'``: a use case name has no hyphen, so the pattern matches exactly its own
stacks (``cdk deploy`` adds the platform stacks they reference, which gain outputs for them;
``cdk destroy`` never removes what they depend on).
"""

from __future__ import annotations

from typing import Final

from contracts.config.loader import AppConfig
from contracts.config.use_cases import UseCase
from contracts.layout import source_object_key
from contracts.names import (
    build_pipeline_name,
    deploy_pipeline_name,
    endpoint_name,
    key_alias,
    model_package_group_name,
    stack_name,
    training_pipeline_name,
)

#: The data stack's artifact bucket's logical ID, pinned in ``stacks.data_stack.LOGICAL_IDS`` (a
#: test pins the two together; this package must not import the CDK).
ARTIFACT_BUCKET_LOGICAL_ID: Final = "ArtifactBucket"
#: The CDK CLI as README spells it (the Makefile's ``CDK`` adds only quiet-mode variables).
CDK: Final = "npx cdk"


def stacks_pattern(case: UseCase) -> str:
    """``<prefix>-*``: the CDK CLI's pattern for exactly this use case's stacks."""
    return f"{case.prefix}-*"


def bucket_lookup(case: UseCase) -> str:
    """A shell command printing the use case's artifact bucket's name (known after its deploy)."""
    return (
        f"aws cloudformation describe-stack-resource --stack-name {stack_name(case.prefix, 'data')} "
        f"--logical-resource-id {ARTIFACT_BUCKET_LOGICAL_ID} "
        "--query StackResourceDetail.PhysicalResourceId --output text"
    )


def bootstrap_command(config: AppConfig, case: UseCase) -> str:
    """``cdk bootstrap`` of the use case's own qualifier in the tooling account (its stacks deploy
    through it: :mod:`contracts.config.bootstrap`), in its own toolkit stack."""
    account, region = config.env.account or "<account>", config.env.region or "<region>"
    return (
        f"{CDK} bootstrap aws://{account}/{region} --qualifier {case.bootstrap_qualifier} "
        f"--toolkit-stack-name CDKToolkit-{case.bootstrap_qualifier} "
        "--cloudformation-execution-policies <ARN of a policy limited to its resources>"
    )


def added_steps(config: AppConfig, case: UseCase) -> list[str]:
    """The lines ``make use-case`` prints: what was added, then how to deploy, feed, train and ship it."""
    env, prefix = config.env.name, case.prefix
    endpoints = ", ".join(endpoint_name(prefix, stage.name) for stage in config.env.endpoints)
    if config.env.delivery.source.connection_arn is not None:
        push = f"a push to {config.env.delivery.source.branch} that touches its code"
    else:
        push = f"the source zip uploaded to s3://<its delivery bucket>/{source_object_key(prefix)}"
    return [
        f"Added use case {case.name!r} to environments.{env}.useCases in cdk.json: target column "
        f"{case.target_column!r}, problem type {case.problem_type!r}, data under {case.input_prefix}.",
        f"Its stacks and resources are named {prefix}-*, on {config.prefix}'s network and Studio domain.",
        "Next steps:",
        f"0. Bootstrap its own CDK qualifier {case.bootstrap_qualifier!r} (once per account and region; "
        "its builds may assume only that bootstrap's roles; README 'Many use cases'):",
        f"     {bootstrap_command(config, case)}",
        f"1. Deploy its stacks ({stack_name(prefix, 'data')}: key, buckets, registry group; then its "
        "pipeline, monitoring and delivery):",
        f"     {CDK} deploy -c env={env} '{stacks_pattern(case)}'    (or every stack: make deploy ENV={env})",
        f"2. Upload its training data (a CSV with the column {case.target_column!r}) to its own artifact "
        f"bucket, under {case.input_prefix}:",
        f"     bucket=$({bucket_lookup(case)})",
        f'     aws s3 cp my-data.csv "s3://$bucket/{case.input_prefix}"',
        f"3. Train: its build {build_pipeline_name(prefix)} runs on {push} (its delivery stack's "
        f"output SourceObject), deploys {stack_name(prefix, 'pipeline')} and starts "
        f"{training_pipeline_name(prefix)}; to start that pipeline now:",
        f"     .venv/bin/python -m release.start_pipeline --pipeline {training_pipeline_name(prefix)} "
        '--reason "first data"',
        f"4. Its versions are registered in the model package group {model_package_group_name(prefix)}; "
        f"approving one starts {deploy_pipeline_name(prefix)}, which ships it to the endpoints {endpoints}.",
        f"5. Studio users of this use case: environments.{env}.useCases.{case.name}.users "
        f"([{{name, persona}}], as studio.users), then deploy again ({CDK} deploy -c env={env} "
        f"'{stacks_pattern(case)}').",
        f"Remove it: make use-case-remove NAME={case.name} ENV={env} (cdk destroy of its stacks, then "
        "this entry; its data stores are retained).",
    ]


def removed_steps(config: AppConfig, case: UseCase) -> list[str]:
    """The lines ``make use-case-remove`` prints: what the destroy of its stacks retained."""
    env, prefix, group = config.env.name, case.prefix, model_package_group_name(case.prefix)
    return [
        f"Removed use case {case.name!r} from environments.{env}.useCases in cdk.json.",
        f"Retained (RemovalPolicy.RETAIN; delete them by hand when their data may go): from "
        f"{stack_name(prefix, 'data')} its KMS key (was {key_alias(prefix)}; the alias is deleted), "
        f"its artifact, delivery and access-log buckets with every object, and the model package "
        f"group {group} with its versions; the log groups of its builds and functions and its alert "
        "topic's key.",
        f"Adding {case.name!r} to {env} again fails at deploy while {group} exists (a fixed name): "
        "delete its versions and the group first.",
    ]
