"""Use cases: the models one platform serves (issue 18), each with its own use-case stacks.

Context (``environments.<env>.useCases``)::

    "useCases": {
        "fraud": {"targetColumn": "is_fraud", "problemType": "binary", "codeDir": "use_cases/fraud"},
        "demand": {"targetColumn": "units", "problemType": "regression", "inputPrefix": "data/demand/"}
    }

The platform layer of an environment (network, Studio domain) is deployed once; every use case
gets its own use-case layer (data stores and registry group, training pipeline, monitoring,
delivery, endpoints). The project itself is always one use case, the *primary*: its stacks keep
the names they had before use cases existed (``<project>-<env>-<part>``), so an existing single
use-case deployment is unchanged. An entry named like the project configures the primary (its
pipeline's target column and problem type); every other entry is an additional use case whose
stacks and resources are named ``<project>-<env>-<use case>-<part>``. Without ``useCases`` the
environment has the primary alone, training on the sample data's schema.

``codeDir`` (not the primary's): its own code, following ml_code's container contract
(:mod:`stacks.pipeline.source_bundle`); pushes under it alone start its build. Default: ``ml_code``.

``bootstrapQualifier`` (not the primary's): the CDK bootstrap its stacks deploy through, default its
name (:mod:`contracts.config.bootstrap`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Annotated, Any, Final, Protocol

from pydantic.dataclasses import dataclass

from contracts.config.base import SECTION, ConfigError, check, one_of, text
from contracts.config.bootstrap import QUALIFIER, taken_qualifiers, use_case_qualifier
from contracts.config.overrides import Sections
from contracts.config.platform import StudioConfig, StudioUser
from contracts.config.release import Endpoints
from contracts.layout import DATA_PREFIX, DEFAULT_INPUT_PREFIX
from ml_code import contract

#: A use case's name: short, since it lengthens every resource name of its stacks.
USE_CASE_NAME: Final = r"^[a-z][a-z0-9]{1,11}$"
#: The code every use case runs unless it names its own ``codeDir``: the primary's, always.
DEFAULT_CODE_DIR: Final = "ml_code"
#: ``codeDir``: relative, no ``.``/``..`` part, no trailing ``/``, not inside ``ml_code/`` (the primary's
#: package); at most 200 characters, so its build trigger's ``<codeDir>/**`` fits CodePipeline's 255.
_CODE_DIR: Final = rf"^(?=.{{1,200}}\Z)(?!{DEFAULT_CODE_DIR}/)[A-Za-z0-9_][\w.-]*(/[A-Za-z0-9_][\w.-]*)*\Z"
#: Names a use case may not take: they would read as a stack part or a stage of the platform.
RESERVED: Final = frozenset(
    {"data", "network", "studio", "pipeline", "monitoring", "delivery", "endpoint"}
    | {"staging", "prod", "stage", "alerts", "models", "build", "deploy", "training"}
    # the primary ML engineer's ad-hoc endpoints are <prefix>-sandbox-*: never a use case's names
    | {"sandbox"}
)


def _column(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 255 and value == value.strip()


@dataclass(frozen=True, kw_only=True, config=SECTION)
class UseCaseConfig:
    """One entry of ``useCases``: what its training pipeline learns, from where."""

    #: The label column of its data (the pipeline's ``TargetColumn`` default).
    target_column: Annotated[str, check("a column name (1-255 characters, no surrounding spaces)", _column)]
    #: The pipeline's ``ProblemType`` default.
    problem_type: Annotated[str, one_of(contract.PROBLEM_TYPES)]
    #: Where its raw data lands in its own artifact bucket (the ``InputDataUri`` default).
    input_prefix: Annotated[
        str, text(rf"^{DATA_PREFIX}([\w.-]+/)*$", f"a folder under {DATA_PREFIX} ending in /, e.g. data/raw/")
    ] = DEFAULT_INPUT_PREFIX
    #: The code SageMaker runs for it (its bundle's ``ml_code`` package), relative to the repository.
    code_dir: Annotated[
        str,
        text(
            _CODE_DIR,
            "a directory of the repository such as use_cases/fraud (relative, no . or .. parts, "
            f"no trailing /, not inside {DEFAULT_CODE_DIR}/)",
        ),
    ] = DEFAULT_CODE_DIR
    #: Its Studio users (an additional use case's; the project's own are ``studio.users``), with
    #: persona roles scoped to its own data stores, group, pipeline and endpoints.
    users: tuple[StudioUser, ...] = ()
    #: The qualifier of the CDK bootstrap its stacks deploy through (an additional use case's;
    #: None: its name, see :func:`resolve_use_cases`).
    bootstrap_qualifier: Annotated[str | None, text(QUALIFIER, "1 to 10 letters or digits")] = None
    #: Keys of the environment's sections it sets otherwise (:mod:`contracts.config.overrides`).
    pipeline: dict[str, Any] | None = None
    instances: dict[str, Any] | None = None
    monitoring: dict[str, Any] | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class UseCase:
    """A use case of the environment, resolved: its name, the stem of its names, what it trains on."""

    name: str
    #: ``<project>-<env>`` for the primary, ``<project>-<env>-<name>`` for an additional use case.
    prefix: str
    primary: bool
    target_column: str = contract.SAMPLE_TARGET_COLUMN
    problem_type: str = contract.SAMPLE_PROBLEM_TYPE
    input_prefix: str = DEFAULT_INPUT_PREFIX
    #: Its code directory, relative to the repository (:attr:`UseCaseConfig.code_dir`).
    code_dir: str = DEFAULT_CODE_DIR
    #: An additional use case's endpoint stages (the environment's, with its own model files); None
    #: for the primary, whose stages are the environment's own (``EnvironmentConfig.endpoints``).
    stages: Endpoints | None = None
    #: Its Studio users in the platform's domain (always empty for the primary: ``studio.users``).
    users: tuple[StudioUser, ...] = ()
    #: The qualifier of the CDK bootstrap its stacks deploy through (``cdk bootstrap --qualifier``);
    #: None for the primary, whose stacks keep the app's default synthesizer.
    bootstrap_qualifier: str | None = None
    #: An additional use case's pipeline, instances and monitoring settings (None for the primary).
    sections: Sections | None = None

    @classmethod
    def of(cls, name: str, *, env_prefix: str, primary: bool, config: UseCaseConfig | None) -> UseCase:
        prefix = env_prefix if primary else f"{env_prefix}-{name}"
        if config is None:
            return cls(name=name, prefix=prefix, primary=primary)
        return cls(
            name=name,
            prefix=prefix,
            primary=primary,
            target_column=config.target_column,
            problem_type=config.problem_type,
            input_prefix=config.input_prefix,
            code_dir=config.code_dir,
            users=config.users,
        )

    def model_file(self, env: str, stage: str, configured: str) -> str:
        """The stage's approved-model file for this use case: the configured one for the primary,
        ``.build/release/<env>-<use case>-<stage>.json`` for an additional use case."""
        return configured if self.primary else f".build/release/{env}-{self.name}-{stage}.json"


def resolve_use_cases(project: str, env: EnvironmentLike) -> tuple[UseCase, ...]:
    """The environment's use cases, the primary first, then the others by name.

    Raises:
        ConfigError: a key of ``useCases`` is not a use case name, is reserved, or names an
            additional use case in an environment with endpoint stages in other accounts; a Studio
            user is listed twice in the environment, or under the project's own use case; the
            project's own entry names a ``codeDir`` or a ``bootstrapQualifier``; an additional one's
            qualifier is missing or taken (:func:`contracts.config.bootstrap.use_case_qualifier`).
    """
    env_prefix, configured = f"{project}-{env.name}", env.use_cases
    _check_users(project, env)
    own = configured.get(project)
    if own is not None and own.code_dir != DEFAULT_CODE_DIR:
        raise ConfigError(
            f"context key 'environments.{env.name}.useCases.{project}.codeDir': the project's own use "
            f"case runs {DEFAULT_CODE_DIR}/ (its build starts on delivery.source.filePaths); give "
            f"another use case a code directory of its own, got {own.code_dir!r}"
        )
    taken = taken_qualifiers(env.name, project, own, stage_qualifier=env.bootstrap_qualifier)
    cases = [UseCase.of(project, env_prefix=env_prefix, primary=True, config=configured.get(project))]
    for name in sorted(set(configured) - {project}):
        key = f"context key 'environments.{env.name}.useCases.{name}'"
        if re.fullmatch(USE_CASE_NAME, name) is None:
            raise ConfigError(
                f"{key}: expected a use case name (2-12 lowercase letters and digits, starting with a "
                f"letter) or the project's own name {project!r}"
            )
        if name in RESERVED:
            raise ConfigError(f"{key}: {name!r} is reserved (a stack part or stage name of the platform)")
        if env.cross_account_stages:
            raise ConfigError(
                f"{key}: additional use cases in an environment whose endpoint stages run in other "
                f"accounts ({', '.join(sorted(env.cross_account_stages))}) are not supported yet; the "
                "project's own use case is"
            )
        case = UseCase.of(name, env_prefix=env_prefix, primary=False, config=configured[name])
        qualifier = use_case_qualifier(env.name, name, configured[name].bootstrap_qualifier, taken)
        cases.append(dataclasses.replace(case, bootstrap_qualifier=qualifier))
    return tuple(cases)


def _check_users(project: str, env: EnvironmentLike) -> None:
    """User profile names are unique in a Studio domain: one per environment, every use case's."""
    section = f"environments.{env.name}"
    if project in env.use_cases and env.use_cases[project].users:
        raise ConfigError(
            f"context key '{section}.useCases.{project}.users': the project's own use case lists its "
            f"Studio users under '{section}.studio.users'"
        )
    seen = {user.name: f"{section}.studio.users[{i}]" for i, user in enumerate(env.studio.users)}
    for name in sorted(env.use_cases):
        for i, user in enumerate(env.use_cases[name].users):
            key = f"{section}.useCases.{name}.users[{i}].name"
            if user.name in seen:
                raise ConfigError(
                    f"context key '{key}': user {user.name!r} is already '{seen[user.name]}' (one "
                    "Studio domain per environment: its user profile names are unique)"
                )
            seen[user.name] = key.removesuffix(".name")


class EnvironmentLike(Protocol):
    """What :func:`resolve_use_cases` reads of an environment (``EnvironmentConfig``)."""

    @property
    def name(self) -> str: ...

    @property
    def use_cases(self) -> Mapping[str, UseCaseConfig]: ...

    @property
    def studio(self) -> StudioConfig: ...

    @property
    def cross_account_stages(self) -> dict[str, str]: ...

    @property
    def bootstrap_qualifier(self) -> str: ...
