"""An additional use case's stacks: its own use-case layer on the environment's platform (issue 18).

The platform layer (network, Studio domain) is the primary's, deployed once (:mod:`stacks.application`).
Each additional use case (``environments.<env>.useCases``; its settings are the environment's with its
overrides, :mod:`contracts.config.overrides`) gets, named ``<project>-<env>-<use case>-<part>``:

- ``-data``: its own key, buckets and model package group (every grant of its stacks names them);
- ``-pipeline``: the training pipeline running its code (``codeDir``, default the shared
  ``ml_code/``; :func:`stacks.pipeline.source_bundle.code_source`), whose ``TargetColumn``,
  ``ProblemType`` and ``InputDataUri`` defaults are the use case's, in the platform's private subnets;
- ``-monitoring``: its alert topic, dashboards, drift check and retraining trigger (no budget);
- ``-delivery``: its build and deploy pipelines (the approval rule matches its own group only; the
  build starts on pushes under its own ``codeDir``, :func:`stacks.delivery.source.use_case_delivery`);
- ``-endpoint-<stage>``: once ``.build/release/<env>-<use case>-<stage>.json`` exists;
- ``-studio``: its ``users``' profiles in the platform's domain, as persona roles scoped to its own
  resources; the project's personas are fenced off its names (``StudioStack.fence_off``).

Every one of its stacks is synthesized for the tooling account's CDK bootstrap of the use case's own
qualifier (``bootstrapQualifier``, default its name; ``cdk bootstrap --qualifier <q>``), and its
delivery builds may assume only that bootstrap's roles (:func:`stacks.delivery.role_policies.cdk_deploy`),
not the default one the platform's and the project's own stacks deploy through.
No second VPC or Studio domain: its jobs and endpoints use the platform's subnets (README "Many use cases").
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import aws_cdk as cdk

from contracts.config import AppConfig
from contracts.config.use_cases import UseCase
from contracts.names import endpoint_stack_name, stack_name
from stacks.batch.props import batch_scoring
from stacks.common.shared import Accounts, Network, SharedResources
from stacks.data.stage_access import StageAccess
from stacks.data_stack import DataStack
from stacks.delivery.source import use_case_delivery
from stacks.delivery_stack import DeliveryStack
from stacks.endpoint_stack import EndpointStack
from stacks.monitoring_stack import MonitoringStack
from stacks.pipeline.source_bundle import REPOSITORY_ROOT, CodeSource, code_source
from stacks.pipeline_stack import PipelineStack
from stacks.studio_stack import StudioStack
from stacks.use_case_studio_stack import UseCaseStudioStack


@dataclass(frozen=True, kw_only=True)
class UseCaseStacks:
    """Handles on one additional use case's stacks."""

    use_case: UseCase
    data: DataStack
    pipeline: PipelineStack
    monitoring: MonitoringStack
    delivery: DeliveryStack
    #: Endpoint stacks by stage name; a stage is absent until its approved-model file exists.
    endpoints: dict[str, EndpointStack] = field(default_factory=dict)
    #: Its users' persona roles and profiles; None when it lists no Studio users.
    studio: UseCaseStudioStack | None = None

    @property
    def stacks(self) -> list[cdk.Stack]:
        studio = [self.studio] if self.studio is not None else []
        return [self.data, *studio, self.pipeline, self.monitoring, self.delivery, *self.endpoints.values()]

    @property
    def tags(self) -> dict[str, str]:
        """Tags beside the environment's on each of its stacks (cost allocation per use case)."""
        return {"UseCase": self.use_case.name}


def build_use_case(
    app: cdk.App,
    config: AppConfig,
    case: UseCase,
    *,
    network: Network,
    studio: StudioStack,
    env: cdk.Environment | None,
    code_root: Path = REPOSITORY_ROOT,
) -> UseCaseStacks:
    """The use-case layer of ``case`` (an additional use case) on the platform's ``network`` and
    ``studio`` domain (whose own personas it fences off ``case``'s names)."""
    if case.primary or case.stages is None or case.bootstrap_qualifier is None or case.sections is None:
        raise ValueError(f"{case.name} is the primary use case: its stacks are the platform's own")
    settings, prefix = config.env, case.prefix
    code = code_source(case, settings.name, root=code_root)  # fails first, naming its codeDir key
    data = DataStack(
        app,
        stack_name(prefix, "data"),
        config=settings.retention,
        prefix=prefix,
        stage_access=StageAccess(),  # config refuses additional use cases with stages elsewhere
        env=env,
        synthesizer=own_bootstrap(case),
        description=f"{prefix}: data stores of the {case.name} use case",
    )
    shared = _shared(config, case, data, network)
    case_studio = _studio_access(app, config, case, shared, studio=studio, env=env)
    pipeline, monitoring, delivery, shared = _workloads(app, config, case, shared, env=env, code=code)
    endpoints = _endpoints(app, case, shared, monitoring=monitoring, env=env)
    return UseCaseStacks(
        use_case=case,
        data=data,
        pipeline=pipeline,
        monitoring=monitoring,
        delivery=delivery,
        endpoints=endpoints,
        studio=case_studio,
    )


def _shared(config: AppConfig, case: UseCase, data: DataStack, network: Network) -> SharedResources:
    """What the use case's stacks are handed: its own data stores and names, the platform's network,
    and its own bootstrap qualifier for its builds."""
    settings = config.env
    assert case.stages is not None  # (build_use_case checked these)
    assert case.bootstrap_qualifier is not None
    assert case.sections is not None
    return data.shared_resources(
        prefix=case.prefix,
        environment=settings.name,
        tags=config.all_tags,
        instances=case.sections.instances,
        stages=case.stages,
        accounts=Accounts(
            tooling=settings.account, region=settings.region, tooling_qualifier=case.bootstrap_qualifier
        ),
    ).with_network(network)


def _workloads(
    app: cdk.App,
    config: AppConfig,
    case: UseCase,
    shared: SharedResources,
    *,
    env: cdk.Environment | None,
    code: CodeSource,
) -> tuple[PipelineStack, MonitoringStack, DeliveryStack, SharedResources]:
    """Its training pipeline, monitoring and delivery (and ``shared`` with its alert topic)."""
    prefix, sections = case.prefix, case.sections
    assert sections is not None  # (build_use_case checked it)
    batch = batch_scoring(config.env.batch, sections.monitoring)
    pipeline = PipelineStack(
        app,
        stack_name(prefix, "pipeline"),
        config=sections.pipeline,
        shared=shared,
        env=env,
        synthesizer=own_bootstrap(case),
        description=f"{prefix}: training pipeline of the {case.name} use case",
        use_case=case,
        source_dir=code.source_dir,
        build_dir=code.build_dir,
        batch=batch,
    )
    monitoring = MonitoringStack(
        app,
        stack_name(prefix, "monitoring"),
        # The environment's budget is the primary's (it counts every use case: Project/Environment tags).
        config=dataclasses.replace(sections.monitoring, budget=None),
        shared=shared,
        max_runtime_seconds=sections.pipeline.max_runtime_seconds,
        env=env,
        synthesizer=own_bootstrap(case),
        description=f"{prefix}: drift monitoring, dashboards and notifications of the {case.name} use case",
        source_dir=code.source_dir,  # its drift check runs its own monitor on its own baseline
        build_dir=code.build_dir,
        batch=batch,
    )
    shared = shared.with_alert_topic(monitoring.topic)
    delivery = DeliveryStack(
        app,
        stack_name(prefix, "delivery"),
        config=use_case_delivery(config.env.delivery, case),
        shared=shared,
        env=env,
        synthesizer=own_bootstrap(case),
        description=f"{prefix}: push-to-train and approve-to-deploy pipelines of the {case.name} use case",
    )
    return pipeline, monitoring, delivery, shared


def _endpoints(
    app: cdk.App,
    case: UseCase,
    shared: SharedResources,
    *,
    monitoring: MonitoringStack,
    env: cdk.Environment | None,
) -> dict[str, EndpointStack]:
    """An endpoint stack per stage with an approved-model file, each with its drift schedule."""
    endpoints = {}
    for stage in case.stages or ():
        if stage.approved_model is None:
            continue
        endpoints[stage.name] = EndpointStack(
            app,
            endpoint_stack_name(case.prefix, stage.name),
            config=stage,
            shared=shared,
            env=env,
            synthesizer=own_bootstrap(case),
            description=f"{case.prefix}: {stage.name} endpoint of the {case.name} use case "
            f"(model version {stage.approved_model.version})",
        )
        monitoring.add_drift_schedule(endpoints[stage.name], stage=stage)
    return endpoints


def own_bootstrap(case: UseCase) -> cdk.IStackSynthesizer:
    """A synthesizer (one per stack) for the CDK bootstrap of ``case``'s own qualifier.

    Raises:
        ValueError: ``case`` has none (the primary: the app's default synthesizer).
    """
    if case.bootstrap_qualifier is None:
        raise ValueError(f"{case.name} has no bootstrap qualifier of its own: it is the primary use case")
    return cdk.DefaultStackSynthesizer(qualifier=case.bootstrap_qualifier)


def _studio_access(
    app: cdk.App,
    config: AppConfig,
    case: UseCase,
    shared: SharedResources,
    *,
    studio: StudioStack,
    env: cdk.Environment | None,
) -> UseCaseStudioStack | None:
    """Fence the platform's own personas off ``case``'s names; ``case``'s users' stack, if it has any."""
    studio.fence_off(case.name, case.prefix)
    if not case.users:
        return None
    return UseCaseStudioStack(
        app,
        stack_name(case.prefix, "studio"),
        config=config.env.studio,
        users=case.users,
        shared=shared,
        domain=studio.domain,
        env=env,
        synthesizer=own_bootstrap(case),
        description=f"{case.prefix}: Studio users of the {case.name} use case",
    )
