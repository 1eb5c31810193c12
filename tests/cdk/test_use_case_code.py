"""A use case's own code (issue 18 point 2): its bundle, its trigger, and synth errors naming its key.

The ``cases`` environment with a CodeConnections source and two additional use cases: ``fraud``
with its own code directory (a copy of ml_code with one module more, under a temporary code
root: nothing is written into the repository) and ``demand``, which shares ``ml_code/``. The app is
built by ``build_platform`` as ``cdk synth`` builds it, its ``build_use_case`` handed that code root
(``code_root``; application.py leaves it at the repository).
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from platform_synth import ROOT, SynthesizedPlatform, resources, synth_platform

from contracts.config import ConfigError
from contracts.config.use_cases import UseCase
from ml_code import contract
from stacks import application
from stacks.pipeline.source_bundle import SHIMS, code_source, contract_gaps
from stacks.use_case import build_use_case

PREFIX = "mlops-demo-cases"
CONNECTION = "arn:aws:codeconnections:eu-west-1:111122223333:connection/0a1b2c3d-1111-2222-3333-444455556666"
FRAUD_DIR = "use_cases/fraud"
#: The module fraud's code has beyond ml_code's (its bundle and its model carry it).
FRAUD_MODULE = "fraud_rules.py"
#: Every part of the container contract (the package, and what the shims import), as contract_gaps
#: names them.
CONTRACT = (
    "__init__.py",
    "steps/preprocess.py",
    "steps/train.py",
    "steps/evaluate.py",
    "steps/track.py",
    "steps/link_run.py",
    "drift/monitor.py",
    "serving/inference.py",
)


def _copy_ml_code(target: Path) -> Path:
    shutil.copytree(ROOT / "ml_code", target, ignore=shutil.ignore_patterns("__pycache__", "*.py[co]"))
    return target


def _edit(context: dict[str, Any]) -> None:
    cases = context["environments"]["cases"]
    cases["delivery"] = {
        "source": {"connectionArn": CONNECTION, "repository": "acme/churn", "branch": "main"}
    }
    cases["useCases"] = {
        "fraud": {"targetColumn": "is_fraud", "problemType": "binary", "codeDir": FRAUD_DIR},
        "demand": {"targetColumn": "units", "problemType": "regression"},
    }


def _synth(outdir: Path, code_root: Path) -> SynthesizedPlatform:
    """The edited ``cases`` app, each additional use case's code read under ``code_root``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(application, "build_use_case", functools.partial(build_use_case, code_root=code_root))
        return synth_platform(
            outdir, env="cases", edit=_edit, approved=False, fresh=True
        )  # patched: never cached


@pytest.fixture(scope="module")
def code_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository stand-in: ml_code, and fraud's code (ml_code with one module more)."""
    root = tmp_path_factory.mktemp("repository")
    _copy_ml_code(root / "ml_code")
    _copy_ml_code(root / FRAUD_DIR)
    (root / FRAUD_DIR / FRAUD_MODULE).write_text("THRESHOLD = 0.9\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory, code_root: Path) -> SynthesizedPlatform:
    return _synth(tmp_path_factory.mktemp("use-case-code"), code_root)


def _push_paths(template: dict[str, Any]) -> list[str]:
    (build,) = [
        p["Properties"]
        for p in resources(template, "AWS::CodePipeline::Pipeline").values()
        if p["Properties"]["Name"].endswith("-build")
    ]
    (trigger,) = build["Triggers"]
    (push,) = trigger["GitConfiguration"]["Push"]
    assert push["Branches"]["Includes"] == ["main"]
    paths: list[str] = push["FilePaths"]["Includes"]
    return paths


def test_each_build_starts_only_on_pushes_to_the_code_it_runs(synth: SynthesizedPlatform) -> None:
    # the project's own build: the environment's file paths, as before use cases
    assert _push_paths(synth.raw["delivery"]) == ["ml_code/**"]
    # fraud runs its own directory: only pushes under it start its build
    assert _push_paths(synth.raw["fraud-delivery"]) == [f"{FRAUD_DIR}/**"]
    # demand shares ml_code: a push there rebuilds both use cases that run it
    assert _push_paths(synth.raw["demand-delivery"]) == ["ml_code/**"]


def _bundle(synth: SynthesizedPlatform, part: str) -> Path:
    """The source bundle asset a stack ships (its ``*.tar.gz`` file asset in the cloud assembly)."""
    manifest = json.loads((synth.outdir / f"{PREFIX}-{part}.assets.json").read_text())
    (path,) = [
        entry["source"]["path"]
        for entry in manifest["files"].values()
        if entry["source"]["path"].endswith(".tar.gz")
    ]
    return synth.outdir / path


def _members(bundle: Path) -> set[str]:
    with tarfile.open(bundle) as tar:
        return set(tar.getnames())


def test_a_use_case_with_its_own_code_ships_a_bundle_of_it(synth: SynthesizedPlatform) -> None:
    primary, fraud, demand = (
        _bundle(synth, part) for part in ("pipeline", "fraud-pipeline", "demand-pipeline")
    )
    assert fraud.name != primary.name  # a different asset (hash), so a different S3 object
    assert demand.name == primary.name  # the same ml_code, the same bytes
    assert f"ml_code/{FRAUD_MODULE}" in _members(fraud)
    assert f"ml_code/{FRAUD_MODULE}" not in _members(primary)
    assert set(SHIMS) <= _members(fraud)  # the same entry points, importing its package as ml_code
    # its drift check runs its own monitor on the baseline its own preprocess wrote
    assert _bundle(synth, "fraud-monitoring").name == fraud.name
    assert _bundle(synth, "demand-monitoring").name == primary.name


def test_the_pipeline_of_a_use_case_reads_its_own_bundle(synth: SynthesizedPlatform) -> None:
    fraud, primary = _bundle(synth, "fraud-pipeline"), _bundle(synth, "pipeline")
    fraud_hash = fraud.name.removeprefix("asset.").removesuffix(".tar.gz")
    primary_hash = primary.name.removeprefix("asset.").removesuffix(".tar.gz")
    definition = json.dumps(synth.raw["fraud-pipeline"])
    assert fraud_hash in definition
    assert primary_hash not in definition


def test_its_model_carries_the_serving_code_of_its_own_bundle(
    synth: SynthesizedPlatform, tmp_path: Path
) -> None:
    # GIVEN fraud's bundle unpacked as its training job unpacks it (requests.step_command)
    with tarfile.open(_bundle(synth, "fraud-pipeline")) as tar:
        tar.extractall(tmp_path / "code", filter="data")
    model_dir = tmp_path / "model"
    # WHEN the training step packages the serving code into the model dir (as train.py does),
    # running from the bundle alone (cwd first on sys.path, the repository's ml_code not importable)
    script = (
        "import sys; from pathlib import Path; from ml_code.steps.model_dir import package_serving_code; "
        "assert Path(sys.modules['ml_code'].__file__).parent == Path.cwd() / 'ml_code'; "
        "package_serving_code(Path(sys.argv[1]))"
    )
    subprocess.run([sys.executable, "-c", script, str(model_dir)], cwd=tmp_path / "code", check=True, env={})
    # THEN model.tar.gz's code/ (SAGEMAKER_SUBMIT_DIRECTORY) is fraud's package and the serving shim
    code = model_dir / contract.MODEL_CODE_DIR
    assert (code / "ml_code" / FRAUD_MODULE).is_file()
    assert (code / contract.SERVING_PROGRAM).read_text() == contract.SERVING_SHIM_SOURCE
    assert contract.MODEL_CODE_CONTAINER_DIR in json.dumps(synth.raw["fraud-pipeline"])


def _case(synth: SynthesizedPlatform, name: str) -> UseCase:
    return next(case for case in synth.config.use_cases if case.name == name)


def test_synth_fails_naming_the_key_when_the_code_dir_does_not_exist(tmp_path: Path) -> None:
    _copy_ml_code(tmp_path / "ml_code")  # (demand's is there; fraud's is not)
    with pytest.raises(ConfigError) as caught:
        _synth(tmp_path / "out", tmp_path)
    message = str(caught.value)
    assert "context key 'environments.cases.useCases.fraud.codeDir'" in message
    assert f"{tmp_path / FRAUD_DIR} is not a directory" in message


@pytest.mark.parametrize("module", CONTRACT)
def test_synth_fails_naming_the_key_and_the_missing_module(
    synth: SynthesizedPlatform, tmp_path: Path, module: str
) -> None:
    _copy_ml_code(tmp_path / FRAUD_DIR)
    (tmp_path / FRAUD_DIR / module).unlink()
    with pytest.raises(ConfigError) as caught:
        code_source(_case(synth, "fraud"), "cases", root=tmp_path, build_root=tmp_path / "build")
    message = str(caught.value)
    assert "context key 'environments.cases.useCases.fraud.codeDir'" in message
    assert message.endswith(f"missing: {module}")


def test_an_entry_point_without_the_function_its_shim_imports_is_named(tmp_path: Path) -> None:
    package = _copy_ml_code(tmp_path / "fraud")
    train = package / "steps" / "train.py"
    train.write_text(train.read_text().replace("def main(", "def run("), encoding="utf-8")
    inference = package / "serving" / "inference.py"
    inference.write_text("from ml_code.serving.hosting import model_fn\n", encoding="utf-8")
    (package / "steps" / "evaluate.py").write_text("def main(:\n", encoding="utf-8")
    gaps = contract_gaps(package)
    assert "steps/train.py (no main)" in gaps
    assert "serving/inference.py (no transform_fn)" in gaps  # model_fn imported: bound, so found
    assert any(gap.startswith("steps/evaluate.py (does not parse") for gap in gaps)
    assert len(gaps) == 3


def test_ml_code_keeps_the_contract_and_a_main_bound_by_import_counts(tmp_path: Path) -> None:
    assert contract_gaps(ROOT / "ml_code") == []
    package = _copy_ml_code(tmp_path / "fraud")
    (package / "steps" / "train.py").write_text("from ml_code.steps.preprocess import main\n")
    assert contract_gaps(package) == []


def test_a_use_case_sharing_ml_code_bundles_where_the_primary_does(
    synth: SynthesizedPlatform, code_root: Path, tmp_path: Path
) -> None:
    shared = code_source(_case(synth, "demand"), "cases", root=code_root, build_root=tmp_path)
    own = code_source(_case(synth, "fraud"), "cases", root=code_root, build_root=tmp_path)
    assert (shared.source_dir, shared.build_dir) == (code_root / "ml_code", tmp_path)
    # a directory of its own is bundled beside, never over, the shared bundle
    assert (own.source_dir, own.build_dir) == (code_root / FRAUD_DIR, tmp_path / "fraud")
