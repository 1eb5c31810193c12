"""Which CDK bootstrap each use case's stacks deploy through (``cdk bootstrap --qualifier``).

The project's own stacks use the account's default bootstrap (:data:`CDK_DEFAULT_QUALIFIER`). Each
additional use case deploys through a bootstrap of its own (``environments.<env>.useCases.<name>.
bootstrapQualifier``, default its name), so its builds, running its own pushed code, may assume that
bootstrap's roles only, never the ones every other stack of the account deploys through.
"""

from __future__ import annotations

from typing import Final, Protocol

from contracts.config.base import ConfigError

#: CDK's default bootstrap qualifier: the project's own stacks deploy through it.
CDK_DEFAULT_QUALIFIER: Final = "hnb659fds"
#: A bootstrap qualifier, as ``EnvironmentConfig.bootstrap_qualifier``: CDK allows at most 10 characters.
QUALIFIER: Final = r"^[A-Za-z0-9]{1,10}$"
QUALIFIER_MAX: Final = 10


class Entry(Protocol):
    """What is read of a ``useCases`` entry (``UseCaseConfig``)."""

    @property
    def bootstrap_qualifier(self) -> str | None: ...


def taken_qualifiers(
    env_name: str, project: str, own: Entry | None, *, stage_qualifier: str
) -> dict[str, str]:
    """The qualifiers no additional use case may take (lower case: IAM role names ignore case), each
    with what holds it: CDK's default and the stage accounts' ``bootstrapQualifier``.

    Raises:
        ConfigError: the project's own entry ``own`` names a qualifier (its stacks keep the default).
    """
    if own is not None and own.bootstrap_qualifier is not None:
        raise ConfigError(
            f"context key 'environments.{env_name}.useCases.{project}.bootstrapQualifier': the project's "
            f"own stacks deploy through the account's default CDK bootstrap ({CDK_DEFAULT_QUALIFIER}); "
            "only an additional use case takes a qualifier of its own"
        )
    return {
        stage_qualifier.lower(): f"'environments.{env_name}.bootstrapQualifier' (the stage accounts')",
        CDK_DEFAULT_QUALIFIER: "CDK's default qualifier (the project's own stacks')",
    }


def use_case_qualifier(env_name: str, name: str, configured: str | None, taken: dict[str, str]) -> str:
    """The bootstrap qualifier of the additional use case ``name``: ``configured``, else its name.

    ``taken`` (:func:`taken_qualifiers`, then every use case's before this one) gets this one too.

    Raises:
        ConfigError: nothing is configured and the name is longer than a qualifier, or the
            qualifier is taken (naming the key and what holds it).
    """
    key = f"environments.{env_name}.useCases.{name}.bootstrapQualifier"
    qualifier = configured
    if qualifier is None:
        if len(name) > QUALIFIER_MAX:
            raise ConfigError(
                f"context key '{key}' is required: the use case's stacks deploy through a CDK bootstrap "
                f"of their own, whose qualifier is its name by default, and {name!r} is longer than a "
                f"qualifier (1 to {QUALIFIER_MAX} letters or digits)"
            )
        qualifier = name
    holder = taken.get(qualifier.lower())
    if holder is not None:
        raise ConfigError(
            f"context key '{key}': qualifier {qualifier!r} is already {holder}; each use case deploys "
            "through a CDK bootstrap of its own (cdk bootstrap --qualifier), so that its builds can "
            "assume no other stack's deploy role"
        )
    taken[qualifier.lower()] = f"that of use case {name!r}"
    return qualifier
