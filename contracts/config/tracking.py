"""The ``tracking`` section: the environment's managed MLflow tracking server (issue 15).

One ``AWS::SageMaker::MlflowTrackingServer`` per environment (:mod:`stacks.tracking`), off unless
``enabled``: a tracking server is billed for every hour it exists, used or not, and CloudFormation
cannot stop it, so an environment opts in knowing the price (README "Experiment tracking").
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Final, Literal, get_args

from pydantic.dataclasses import dataclass

from contracts.config.base import BOOLEAN, SECTION, one_of, text
from contracts.config.platform import NetworkConfig

TrackingServerSize = Literal["Small", "Medium", "Large"]
TRACKING_SERVER_SIZES: Final[tuple[str, ...]] = get_args(TrackingServerSize)
#: The interface endpoint (``aws.sagemaker.<region>.experiments``) the MLflow plugin's SigV4
#: requests to ``<region>.experiments.sagemaker.aws`` go through from inside the VPC.
TRACKING_ENDPOINT: Final = "sagemaker_experiments"
_WINDOW: Final = r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01]\d|2[0-3]):[0-5]\d$"


@dataclass(frozen=True, kw_only=True, config=SECTION)
class TrackingConfig:
    """Whether the environment has a tracking server, and its size, MLflow version and maintenance."""

    enabled: Annotated[bool, BOOLEAN] = False
    #: ``Small`` is sized by AWS for a team of up to about 25 users.
    size: Annotated[TrackingServerSize, one_of(TRACKING_SERVER_SIZES)] = "Small"
    #: The server's MLflow (major.minor); clients should run the matching ``mlflow`` release.
    mlflow_version: Annotated[str, text(r"^\d+\.\d+(\.\d+)?$", "an MLflow version such as 3.0")] = "3.0"
    #: Weekly maintenance window start, UTC (``Sun:03:00``).
    maintenance_window: Annotated[str, text(_WINDOW, "a day and time such as Sun:03:00")] = "Sun:03:00"


def network_for(network: NetworkConfig, tracking: TrackingConfig) -> NetworkConfig:
    """``network`` with the experiments interface endpoint added when ``tracking`` is enabled.

    A created VPC then reaches the server privately; the list stays sorted (a stable template).
    """
    if not tracking.enabled or TRACKING_ENDPOINT in network.interface_endpoints:
        return network
    endpoints = tuple(sorted((*network.interface_endpoints, TRACKING_ENDPOINT)))
    return dataclasses.replace(network, interface_endpoints=endpoints)
