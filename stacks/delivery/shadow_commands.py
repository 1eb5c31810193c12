"""The Shadow build's commands: the staging-tested version as a shadow variant of prod, reported on.

With ``endpoints.prod.shadow``, the deploy pipeline runs this build between Staging and the manual
gate: ``release.shadow`` writes prod's approved-model file (production: the version prod serves
now; shadow: ``$MODEL_VERSION``), ``cdk deploy`` of prod's endpoint stack adds the shadow variant
(the production variant's model is unchanged), the build sleeps ``windowMinutes`` while live traffic
is copied to the shadow, and ``release.shadow_report`` compares both variants' captures and exports
its figures (:data:`release.shadow_report.EXPORTED`) as CodePipeline variables ``#{Shadow.<name>}``
for the approval. No prod endpoint yet (a first release), or prod already serving the version: no
file is written, nothing is deployed or waited for, and the variables say so.
"""

from __future__ import annotations

from typing import Final

from contracts.config import StageConfig
from contracts.layout import CAPTURE_PREFIX
from contracts.names import endpoint_name, endpoint_stack_name
from stacks.delivery.commands import PY, VERSION_VARIABLE, deploy, read_version

#: The CodePipeline variables namespace (and stage name) of the Shadow build.
NAMESPACE: Final = "Shadow"
#: Must equal ``release.shadow_report.EXPORTED`` (a test pins it; stacks may not import release).
EXPORTED: Final = (
    "SHADOW_SUMMARY", "SHADOW_PAIRED", "SHADOW_AGREEMENT", "SHADOW_PSI", "SHADOW_KS", "SHADOW_LATENCY",
)  # fmt: skip
#: The project variable holding the artifact bucket's name (a deploy-time value; capture is there).
BUCKET_VARIABLE: Final = "MLOPS_ARTIFACT_BUCKET"
REPORT_FILE: Final = "shadow-report.json"
EXPORTS_FILE: Final = "shadow-report.env"


def shadow_commands(*, env: str, prefix: str, group: str, stage: StageConfig, staged_file: str) -> list[str]:
    """Shadow deploy → wait the window → report, each step only when a shadow file was written.

    Raises:
        ValueError: ``stage`` has no shadow config.
    """
    if stage.shadow is None:
        raise ValueError(f"endpoints.{stage.name}.shadow is not set: no Shadow stage")
    endpoint, model_file = endpoint_name(prefix, stage.name), stage.model_file
    when = f"if [ -f {model_file} ]; then"
    report = (
        f"{PY} -m release.shadow_report --endpoint {endpoint} "
        f'--capture-uri "s3://${BUCKET_VARIABLE}/{CAPTURE_PREFIX}" '
        f"--window-minutes {stage.shadow.window_minutes} --min-requests {stage.shadow.min_requests} "
        f"--model-file {model_file} --out {REPORT_FILE} --exports {EXPORTS_FILE}"
    )
    none = f"no shadow test: {endpoint} does not exist yet or already serves version ${VERSION_VARIABLE}"
    return [
        read_version(staged_file),
        # what the approval shows when there is nothing to compare (overwritten by the report)
        f'export SHADOW_SUMMARY="{none}" ' + " ".join(f"{name}=n/a" for name in EXPORTED[1:]),
        f"rm -f {model_file}",  # only release.shadow's answer may decide what follows
        f"{PY} -m release.shadow --group {group} --stage-file {model_file} --endpoint {endpoint} "
        f"--version ${VERSION_VARIABLE}",
        f"{when} {deploy(endpoint_stack_name(prefix, stage.name), env)} ; fi",
        # the window: live traffic reaches the shadow; the build's timeout covers it
        f'{when} echo "shadow test: waiting {stage.shadow.window_minutes} min" ; '
        f"sleep {stage.shadow.window_minutes * 60} ; fi",
        f"{when} {report} && . ./{EXPORTS_FILE} ; fi",
    ]
