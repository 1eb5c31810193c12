"""The job's cluster as SageMaker describes it: this host's name, every host's name, the leader.

SageMaker writes ``resourceconfig.json`` into every container of a job (training:
``/opt/ml/input/config/``; processing: ``/opt/ml/config/``) with ``current_host`` (``algo-1`` ...)
and ``hosts``; a one-instance job, or a step run by hand without the file, is the cluster
``algo-1`` alone. Host names resolve through the cluster's DNS in SageMaker; offline, the runner
names each host's address (loopback) in ``MLOPS_HOST_ADDRESSES`` and the collective's port in
``MLOPS_COLLECTIVE_PORT`` (two local jobs cannot share one fixed port), the only difference.
"""

from __future__ import annotations

import json
import os
import re
import socket
from dataclasses import dataclass
from typing import Final

from ml_code.container import container_path
from ml_code.contract import COLLECTIVE_PORT, COLLECTIVE_PORT_ENV, HOST_ADDRESSES_ENV
from ml_code.errors import DataValidationError

#: The one host of a job without a resource config.
SINGLE_HOST: Final = "algo-1"
#: What a host name may be: jobs name files after their host, so nothing that leaves a folder.
_HOST_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")


@dataclass(frozen=True)
class Cluster:
    """This host and every host of the job, in SageMaker's order (``algo-1`` first)."""

    current_host: str
    hosts: tuple[str, ...]

    def __post_init__(self) -> None:
        named = [h for h in self.hosts if not _HOST_NAME.match(h)]
        if named or not _HOST_NAME.match(self.current_host):
            shown = named or [self.current_host]
            raise DataValidationError(f"host names must be letters, digits and '-' (as algo-1), got {shown}")
        if not self.hosts or self.current_host not in self.hosts:
            raise DataValidationError(f"current host {self.current_host!r} is not one of {list(self.hosts)}")
        if len(set(self.hosts)) != len(self.hosts):
            raise DataValidationError(f"hosts repeat: {list(self.hosts)}")

    @property
    def size(self) -> int:
        return len(self.hosts)

    @property
    def rank(self) -> int:
        """This host's place in :attr:`hosts` (0 for the leader)."""
        return self.hosts.index(self.current_host)

    @property
    def leader(self) -> str:
        return self.hosts[0]

    @property
    def is_leader(self) -> bool:
        """Whether this host writes what the job writes once (the model, the transformer)."""
        return self.rank == 0

    def address(self, host: str) -> str:
        """The address ``host`` is reached at: the offline map's entry, else the cluster's DNS.

        Raises:
            DataValidationError: ``host`` is not in the cluster, or its name does not resolve.
        """
        if host not in self.hosts:
            raise DataValidationError(f"{host!r} is not a host of this job ({list(self.hosts)})")
        mapped = _offline_addresses().get(host)
        if mapped:
            return mapped
        try:
            return socket.gethostbyname(host)
        except OSError as exc:
            raise DataValidationError(f"host {host!r} does not resolve: {exc}") from exc

    @staticmethod
    def collective_port() -> int:
        """The leader's tracker port: SageMaker's fixed one, or the offline runner's free one."""
        value = os.environ.get(COLLECTIVE_PORT_ENV)
        return int(value) if value else COLLECTIVE_PORT


def _offline_addresses() -> dict[str, str]:
    text = os.environ.get(HOST_ADDRESSES_ENV)
    if not text:
        return {}
    try:
        mapping = json.loads(text)
    except ValueError as exc:
        raise DataValidationError(f"{HOST_ADDRESSES_ENV} is not JSON: {exc}") from exc
    if not isinstance(mapping, dict):
        raise DataValidationError(f"{HOST_ADDRESSES_ENV} is not a JSON object of host -> address")
    return {str(k): str(v) for k, v in mapping.items()}


def read_cluster(resource_config: str) -> Cluster:
    """The cluster from the (re-rooted) ``resource_config`` file; ``algo-1`` alone without one.

    Raises:
        DataValidationError: the file is not JSON or lacks ``current_host``/``hosts``.
    """
    path = container_path(resource_config)
    if not path.is_file():
        return Cluster(SINGLE_HOST, (SINGLE_HOST,))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Cluster(str(data["current_host"]), tuple(str(h) for h in data["hosts"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise DataValidationError(f"{resource_config} is not a resource config: {exc!r}") from exc
