"""Container contract helpers: path re-rooting, SM_* dirs, hyperparameters and channels, and
failure reporting by run_step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml_code import contract
from ml_code.container import (
    HYPERPARAMETERS_FILE,
    MAX_FAILURE_CHARS,
    container_path,
    read_hyperparameters,
    run_step,
    sm_env_path,
    training_channel,
)
from ml_code.errors import DataValidationError


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(tmp_path))
    return tmp_path


def test_container_path_is_unchanged_without_the_root_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(contract.OPT_ML_ROOT_ENV, raising=False)
    assert container_path(contract.RAW_DATA_DIR) == Path("/opt/ml/processing/input/data")


def test_container_path_is_rerooted_under_the_root_env(root: Path) -> None:
    assert container_path(contract.RAW_DATA_DIR) == root / "processing" / "input" / "data"
    assert container_path(contract.OPT_ML) == root
    assert container_path("/tmp/elsewhere") == Path("/tmp/elsewhere")


def test_sm_env_path_prefers_the_env_var(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SM_MODEL_DIR", raising=False)
    assert sm_env_path("SM_MODEL_DIR", "/opt/ml/model") == root / "model"
    monkeypatch.setenv("SM_MODEL_DIR", "/somewhere/model")
    assert sm_env_path("SM_MODEL_DIR", "/opt/ml/model") == Path("/somewhere/model")


def test_run_step_returns_zero_and_writes_no_failure_on_success(root: Path) -> None:
    assert run_step(lambda: None, contract.FAILURE_FILE) == 0
    assert not (root / "output" / "failure").exists()


def test_bad_data_writes_its_message_to_the_failure_file(root: Path) -> None:
    def step() -> None:
        raise DataValidationError("target column 'y' not found")

    assert run_step(step, contract.PROCESSING_MESSAGE_FILE) == 1
    assert (root / "output" / "message").read_text() == "DataValidationError: target column 'y' not found"


def test_unexpected_errors_are_reported_with_a_traceback_in_the_log(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def step() -> None:
        raise KeyError("boom")

    assert run_step(step, contract.FAILURE_FILE) == 1
    assert (root / "output" / "failure").read_text() == "KeyError: 'boom'"
    assert "Traceback" in caplog.text


def test_failure_message_is_truncated_to_what_sagemaker_shows(root: Path) -> None:
    def step() -> None:
        raise DataValidationError("x" * 5000)

    run_step(step, contract.FAILURE_FILE)
    assert len((root / "output" / "failure").read_text()) == MAX_FAILURE_CHARS


def test_argument_errors_keep_their_exit_code_and_are_reported(root: Path) -> None:
    def step() -> None:
        raise SystemExit(2)

    assert run_step(step, contract.FAILURE_FILE) == 2
    assert "invalid arguments" in (root / "output" / "failure").read_text()


def test_hyperparameters_file_is_where_sagemaker_writes_it() -> None:
    assert HYPERPARAMETERS_FILE == "/opt/ml/input/config/hyperparameters.json"


def test_hyperparameter_values_are_json_decoded_when_they_parse_as_the_toolkit_does(root: Path) -> None:
    # GIVEN the file SageMaker writes: every value a string, some JSON-quoted by the SDK
    config = root / "input" / "config"
    config.mkdir(parents=True)
    raw = {"rounds": "300", "eta": "0.1", "name": '"xgb"', "bare": "abc", "on": "true", "list": "[1, 2]"}
    (config / "hyperparameters.json").write_text(json.dumps(raw))
    # WHEN it is read THEN JSON values are decoded and the rest stay the raw string
    assert read_hyperparameters() == {
        "rounds": 300, "eta": 0.1, "name": "xgb", "bare": "abc", "on": True, "list": [1, 2],
    }  # fmt: skip


def test_no_hyperparameters_file_means_no_hyperparameters(root: Path) -> None:
    assert read_hyperparameters() == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "hyperparameters.json is not JSON"), ("[]", "is not a JSON object of hyperparameters")],
)
def test_an_unreadable_hyperparameters_file_is_a_data_error(root: Path, content: str, message: str) -> None:
    (root / "input" / "config").mkdir(parents=True)
    (root / "input" / "config" / "hyperparameters.json").write_text(content)
    with pytest.raises(DataValidationError, match=message):
        read_hyperparameters()


def test_a_channel_is_its_folder_under_input_data_unless_sm_channel_names_one(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SM_CHANNEL_TRAIN", raising=False)
    (root / "input" / "data" / "train").mkdir(parents=True)
    assert training_channel("train") == root / "input" / "data" / "train"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(elsewhere))
    assert training_channel("train") == elsewhere


def test_a_missing_channel_is_named_by_its_container_path(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SM_CHANNEL_VALIDATION", raising=False)
    with pytest.raises(DataValidationError) as raised:
        training_channel("validation")
    assert str(raised.value) == (
        "input channel 'validation' is missing: /opt/ml/input/data/validation does not exist "
        "(the training job needs a channel named 'validation')"
    )
