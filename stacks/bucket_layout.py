"""The artifact and delivery buckets' key layout: who writes where (no CDK import).

Artifact bucket (``<prefix>-data`` stack, ``ArtifactBucket``):

========================== ============================================ ==========================
prefix                     holds                                        written by
========================== ============================================ ==========================
``data/``                  raw and labelled training data               personas (data_scientist,
                                                                        ml_engineer), deployers
``workspace/<persona>/``   a persona's own scratch and ad-hoc job output that persona only
``pipeline-runs/``         what a training run keeps: test split,       the training pipeline's
                           baseline, model.tar.gz, evaluation report    execution role only
                                                                        (bucket policy), never
                                                                        deleted but by lifecycle
``pipeline-intermediates/`` train/validation splits, checkpoints        the pipeline role;
                                                                        expire (retention)
``data-capture/``          captured endpoint traffic                    endpoint model roles;
                                                                        expires (retention)
``drift-checks/``          drift-check manifests and reports            drift-check role and its
                                                                        selector; expire
========================== ============================================ ==========================

Delivery bucket (``DeliveryBucket``): ``source/<prefix>.zip`` (the S3 source the build polls) and
every CodePipeline artifact. No persona, job, endpoint or function role may write there.
"""

from __future__ import annotations

from typing import Final

from ml_code.contract import CAPTURE_PREFIX as _CAPTURE
from stacks.monitoring.definition import CHECKS_PREFIX
from stacks.pipeline.props import DATA_PREFIX, INTERMEDIATES_PREFIX, RUNS_PREFIX

#: Every prefix ends with "/"; ``workspace_prefix(persona)`` for a persona's own folder.
CAPTURE_PREFIX: Final = f"{_CAPTURE}/"
WORKSPACE_PREFIX: Final = "workspace/"
SOURCE_PREFIX: Final = "source/"

__all__ = [
    "CAPTURE_PREFIX",
    "CHECKS_PREFIX",
    "DATA_PREFIX",
    "INTERMEDIATES_PREFIX",
    "RUNS_PREFIX",
    "SOURCE_PREFIX",
    "WORKSPACE_PREFIX",
    "runs_writer_path",
    "workspace_prefix",
]


def workspace_prefix(persona: str) -> str:
    """``workspace/<persona>/``: the one folder a persona's role may write besides ``data/``."""
    return f"{WORKSPACE_PREFIX}{persona}/"


def runs_writer_path(prefix: str) -> str:
    """The IAM path of the one role that may write ``pipeline-runs/`` (the training pipeline's).

    The artifact bucket's policy names the path, not the role: the role lives in a later stack
    and naming it would make the data stack depend on that stack. Creating a role with this path
    takes ``iam:CreateRole``, which no persona or workload role has.
    """
    return f"/{prefix}/pipeline-runs-writer/"
