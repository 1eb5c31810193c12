"""What more than one stack uses, handed to every stack as one object: ``shared=``.

:func:`stacks.application.build_platform` builds it once the data stack exists (its key, buckets
and model package group, plus the names and settings every stack derives from) and extends it as
the other producers are created: the network stack's :class:`Network` (:meth:`with_network`), the
monitoring stack's alert topic (:meth:`with_alert_topic`). A stack that asks for a part that is
not there yet fails at synth, naming the stack that makes it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from contracts.config import Endpoints, InstanceConfig
from contracts.config.bootstrap import CDK_DEFAULT_QUALIFIER
from stacks.common.job_conditions import JobBoundary


@dataclass(frozen=True, kw_only=True)
class Network:
    """Where SageMaker runs: the VPC, its private subnets (resolved once, here) and the security group."""

    vpc: ec2.IVpc
    subnets: tuple[ec2.ISubnet, ...]
    security_group: ec2.ISecurityGroup

    @property
    def subnet_ids(self) -> list[str]:
        """The subnets' IDs (tokens for subnets this app creates)."""
        return [subnet.subnet_id for subnet in self.subnets]


@dataclass(frozen=True, kw_only=True)
class Accounts:
    """The environment's account layout: the tooling side, and what cross-account grants need."""

    tooling: str | None = None
    region: str | None = None
    organization_id: str | None = None
    bootstrap_qualifier: str = CDK_DEFAULT_QUALIFIER
    #: The tooling account's CDK bootstrap this use case's stacks deploy through (the only one its
    #: delivery builds may assume): CDK's default for the project's own, its own for another use case.
    tooling_qualifier: str = CDK_DEFAULT_QUALIFIER
    #: Stage name -> account, for the stages outside the tooling account (empty: single account).
    stage_accounts: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class SharedResources:
    """Names, platform-wide settings and the resources several stacks use."""

    #: ``<project>-<env>``: what every stack and resource name is derived from (``contracts.names``).
    prefix: str
    #: The environment's name (``dev``, ...), as the delivery builds pass it back to ``make``.
    environment: str
    #: The tags on every stack (``AppConfig.all_tags``); the spend budget counts two of them.
    tags: Mapping[str, str]
    #: Instance types per kind of work and the allowlist every job and role is held to.
    instances: InstanceConfig
    #: The endpoint stages (dashboards, alarms, delivery and the endpoint stacks follow them).
    stages: Endpoints
    #: The data key: buckets, logs, Studio storage, job volumes.
    key: kms.IKey
    artifact_bucket: s3.IBucket
    delivery_bucket: s3.IBucket
    model_package_group_name: str
    model_package_group_arn: str
    #: Where the environment's accounts are (``EnvironmentConfig``): the tooling account and region
    #: (None: the deploying credentials'), the organization, the stage accounts' bootstrap qualifier.
    #: Each stage's own account is ``stages.<stage>.account`` (None: the tooling account).
    accounts: Accounts = dataclasses.field(default_factory=Accounts)
    #: The environment's MLflow tracking server (``<prefix>-mlflow``), None when it has none: the
    #: pipeline's role and the personas may use it (:mod:`stacks.tracking.access`).
    tracking_server_name: str | None = None
    _network: Network | None = None
    _alert_topic: sns.ITopic | None = None
    #: A stage account's: its alarms reach the team's topic through the tooling account's bus.
    _alarms_forwarded: bool = False

    @property
    def network(self) -> Network:
        """The network stack's VPC, subnets and security group.

        Raises:
            ValueError: the network stack has not been added yet.
        """
        if self._network is None:
            raise ValueError("no network yet: create the network stack first (SharedResources.with_network)")
        return self._network

    @property
    def alert_topic(self) -> sns.ITopic:
        """The team's alert topic (made by the monitoring stack).

        Raises:
            ValueError: the monitoring stack has not been added yet.
        """
        if self._alert_topic is None:
            raise ValueError(
                "no alert topic yet: create the monitoring stack first (SharedResources.with_alert_topic)"
            )
        return self._alert_topic

    @property
    def alarm_topic(self) -> sns.ITopic | None:
        """The topic alarms notify directly: the alert topic, or None in a stage account, whose
        alarms are forwarded to the team's topic (:mod:`stacks.common.alarm_actions`)."""
        return None if self._alarms_forwarded else self.alert_topic

    @property
    def job_boundary(self) -> JobBoundary:
        """Where jobs may run and with what: the subnets, security group, data key, allowed instances."""
        return JobBoundary(
            subnet_ids=self.network.subnet_ids,
            security_group_id=self.network.security_group.security_group_id,
            key_arn=self.key.key_arn,
            instance_types=self.instances.allowed,
        )

    def with_network(self, network: Network) -> SharedResources:
        """A copy that carries ``network``."""
        return dataclasses.replace(self, _network=network)

    def with_alert_topic(self, topic: sns.ITopic) -> SharedResources:
        """A copy that carries the alert ``topic``."""
        return dataclasses.replace(self, _alert_topic=topic)

    def with_forwarded_alarms(self) -> SharedResources:
        """A copy for a stage account: its alarms notify no topic directly (:attr:`alarm_topic`)."""
        return dataclasses.replace(self, _alarms_forwarded=True)
