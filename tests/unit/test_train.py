"""Train: split file checks, objectives, early stopping, artefacts, main()'s failure file (one host;
several hosts: test_distributed_train.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from split_parts import make_splits, write_parts, write_transformer

from ml_code import contract
from ml_code.errors import DataValidationError
from ml_code.features import FeatureTransformer
from ml_code.steps.split_files import read_chunks, read_split
from ml_code.steps.train import (
    Hyperparameters,
    TrainingData,
    load_split,
    main,
    model_meta,
    train,
    train_booster,
    xgb_params,
)

FAST = Hyperparameters(num_round=30, max_depth=3, early_stopping_rounds=5)
#: The first train part file (the fixture's splits have three each, as from three preprocess hosts).
FIRST_TRAIN = "part-algo-1-00.csv"


@pytest.fixture(scope="module")
def splits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folders train/, validation/ (3 part files each), test/ and transformer/, as preprocess writes them."""
    root = tmp_path_factory.mktemp("splits")
    made = make_splits(300, seed=9)
    for name in ("train", "validation", "test"):
        write_parts(made.frames[name], root / name, 3)
    write_transformer(made.transformer, root / "transformer")
    return root


@pytest.fixture(scope="module")
def transformer(splits: Path) -> FeatureTransformer:
    return FeatureTransformer.from_json((splits / "transformer" / contract.TRANSFORMER_FILE).read_text())


def data_of(splits: Path, **changes: Any) -> TrainingData:
    data = TrainingData(
        train_dir=splits / "train",
        validation_dir=splits / "validation",
        transformer_dir=splits / "transformer",
    )
    return replace(data, **changes)


def matrices(splits: Path, transformer: FeatureTransformer) -> tuple[xgb.DMatrix, xgb.DMatrix]:
    train_split = load_split(splits / "train" / FIRST_TRAIN, transformer)
    valid_split = load_split(splits / "validation" / FIRST_TRAIN, transformer)
    return xgb.DMatrix(*train_split), xgb.DMatrix(*valid_split)


def test_load_split_returns_float32_features_and_the_target(
    splits: Path, transformer: FeatureTransformer
) -> None:
    features, target = load_split(splits / "train" / FIRST_TRAIN, transformer)
    assert features.dtype == np.float32
    assert features.shape[1] == len(transformer.output_names)
    assert set(np.unique(target)) == {0.0, 1.0}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "cannot read"),
        ("a,b\n1,2\n", "header does not match transformer.json"),
        (None, "has no rows"),
        ("non-numeric", "non-numeric values in columns"),
        ("no-target", "1 rows without a target"),
        ("bad-class", r"class indices outside 0..1"),
    ],
)
def test_load_split_rejects_bad_files_naming_them(
    tmp_path: Path, splits: Path, transformer: FeatureTransformer, content: str | None, message: str
) -> None:
    # GIVEN a split file broken in one way
    good = (splits / "train" / FIRST_TRAIN).read_text().splitlines()
    header, first = good[0], good[1].split(",")
    lines = {
        None: [header],
        "non-numeric": [header, ",".join([first[0], "abc", *first[2:]])],
        "no-target": [header, ",".join(["", *first[1:]])],
        "bad-class": [header, ",".join(["3", *first[1:]])],
    }
    text = content if content not in lines else "\n".join(lines[content]) + "\n"
    path = tmp_path / "train.csv"
    path.write_text(text or "")
    # WHEN it is loaded THEN the error names the file's problem
    with pytest.raises(DataValidationError, match=message):
        load_split(path, transformer)


@pytest.mark.parametrize("chunk_rows", [1, 7, 100_000])
def test_chunks_of_any_size_give_the_rows_of_the_whole_files(
    splits: Path, transformer: FeatureTransformer, chunk_rows: int
) -> None:
    files = sorted((splits / "train").glob(contract.SPLIT_PART_GLOB))
    chunks = list(read_split(files, transformer, chunk_rows))
    assert all(len(target) <= chunk_rows for _, target in chunks)
    whole = [load_split(path, transformer) for path in files]
    np.testing.assert_array_equal(
        np.concatenate([c[0] for c in chunks]), np.concatenate([w[0] for w in whole])
    )
    np.testing.assert_array_equal(
        np.concatenate([c[1] for c in chunks]), np.concatenate([w[1] for w in whole])
    )


def test_a_header_only_part_is_empty_but_its_header_is_still_checked(
    tmp_path: Path, transformer: FeatureTransformer
) -> None:
    header = ",".join([contract.TARGET_COLUMN_IN_SPLITS, *transformer.output_names])
    (tmp_path / "part-a.csv").write_text(header + "\n")
    assert list(read_chunks(tmp_path / "part-a.csv", transformer)) == []
    (tmp_path / "part-b.csv").write_text("a,b\n")
    with pytest.raises(DataValidationError, match=r"^part-b\.csv header does not match transformer\.json"):
        list(read_chunks(tmp_path / "part-b.csv", transformer))


def test_a_bad_row_in_a_later_chunk_is_named_with_its_file(
    splits: Path, transformer: FeatureTransformer, tmp_path: Path
) -> None:
    # GIVEN a part file whose last row lacks its target, read 5 rows at a time
    lines = (splits / "train" / FIRST_TRAIN).read_text().splitlines()
    lines[-1] = "," + lines[-1].split(",", 1)[1]
    (tmp_path / "part-x.csv").write_text("\n".join(lines) + "\n")
    # WHEN it is read THEN the chunk that holds it fails, naming the file
    with pytest.raises(DataValidationError, match=r"^part-x\.csv has 1 rows without a target$"):
        list(read_chunks(tmp_path / "part-x.csv", transformer, chunk_rows=5))


def test_external_memory_trains_the_same_model_and_removes_its_cache(
    splits: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the same job in memory and with --external-memory (its cache under the /opt/ml stand-in)
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(tmp_path / "opt_ml"))
    args = ["--train-dir", str(splits / "train"), "--validation-dir", str(splits / "validation")]
    args += ["--transformer-dir", str(splits / "transformer"), "--num_round", "15", "--chunk-rows", "40"]
    # WHEN both train
    assert main([*args, "--model-dir", str(tmp_path / "memory")]) == 0
    assert main([*args, "--model-dir", str(tmp_path / "external"), "--external-memory"]) == 0
    # THEN the models predict alike, and no cache folder is left behind
    features = load_split(splits / "test" / FIRST_TRAIN, FeatureTransformer.from_json(
        (splits / "transformer" / contract.TRANSFORMER_FILE).read_text()))[0]  # fmt: skip
    predictions = []
    for name in ("memory", "external"):
        booster = xgb.Booster()
        booster.load_model(str(tmp_path / name / contract.MODEL_FILE))
        predictions.append(booster.predict(xgb.DMatrix(features)))
    np.testing.assert_allclose(predictions[0], predictions[1], atol=1e-6)
    assert not list((tmp_path / "opt_ml").glob("xgboost-cache-*"))


@pytest.mark.parametrize(
    ("problem", "objective", "last_metric"),
    [("binary", "binary:logistic", "auc"), ("multiclass", "multi:softprob", "mlogloss"),
     ("regression", "reg:squarederror", "rmse")],
)  # fmt: skip
def test_objective_and_early_stopping_metric_follow_the_problem(
    problem: str, objective: str, last_metric: str
) -> None:
    params = xgb_params(problem, 3, Hyperparameters(max_depth=4, eta=0.3, seed=1))
    assert params["objective"] == objective
    assert params["eval_metric"][-1] == last_metric
    assert (params["max_depth"], params["eta"], params["seed"]) == (4, 0.3, 1)
    assert params.get("num_class") == (3 if problem == "multiclass" else None)


def test_unknown_problem_type_is_rejected() -> None:
    with pytest.raises(ValueError, match="problem_type must be one of"):
        xgb_params("ranking", 0, Hyperparameters())


def test_booster_is_cut_at_its_best_iteration_and_is_reproducible(
    splits: Path, transformer: FeatureTransformer
) -> None:
    dtrain, dvalid = matrices(splits, transformer)
    params = xgb_params("binary", 2, FAST)
    first = train_booster(dtrain, dvalid, params, FAST)
    second = train_booster(dtrain, dvalid, params, FAST)
    assert first.num_boosted_rounds() == int(first.attr("best_iteration") or -1) + 1
    np.testing.assert_array_equal(first.predict(dvalid), second.predict(dvalid))


def test_zero_early_stopping_rounds_keeps_every_round(splits: Path, transformer: FeatureTransformer) -> None:
    hp = Hyperparameters(num_round=7, early_stopping_rounds=0)
    booster = train_booster(*matrices(splits, transformer), xgb_params("binary", 2, hp), hp)
    assert booster.num_boosted_rounds() == 7
    assert model_meta(booster, transformer, hp)["best_score"] is None


def test_train_writes_model_transformer_and_meta(splits: Path, tmp_path: Path) -> None:
    meta = train(data_of(splits), tmp_path, FAST)
    assert {p.name for p in tmp_path.iterdir()} == {
        contract.MODEL_FILE, contract.TRANSFORMER_FILE, contract.MODEL_META_FILE, contract.MODEL_CODE_DIR,
        contract.TRAINING_HISTORY_FILE,
    }  # fmt: skip
    written = json.loads((tmp_path / contract.MODEL_META_FILE).read_text())
    assert written == meta
    assert (written["problem_type"], written["labels"], written["target"]) == ("binary", [0, 1], "churn")
    assert written["library_versions"]["xgboost"] == xgb.__version__
    booster = xgb.Booster()
    booster.load_model(str(tmp_path / contract.MODEL_FILE))
    assert booster.num_features() == len(written["output_names"])


def test_model_dir_carries_serving_code_that_serves_it(splits: Path, tmp_path: Path) -> None:
    # GIVEN a trained model directory, copied away from this repository
    model_dir = tmp_path / "opt" / "ml" / "model"
    train(data_of(splits), model_dir, FAST)
    code_dir = model_dir / contract.MODEL_CODE_DIR
    assert not list(code_dir.rglob("__pycache__"))
    # WHEN a fresh interpreter imports only the model's own code (as SAGEMAKER_SUBMIT_DIRECTORY)
    script = (
        "import sys, inference\n"
        "assert inference.__file__.startswith(sys.argv[1]), inference.__file__\n"
        "import ml_code; assert ml_code.__file__.startswith(sys.argv[1]), ml_code.__file__\n"
        "from ml_code.serving.inference import respond\n"
        "model = inference.model_fn(sys.argv[2])\n"
        "row = ','.join([''] * len(model.transformer.feature_names))\n"
        "reply = respond(model, row, 'text/csv', 'text/csv')\n"
        "print(reply.status, reply.content_type, reply.body.decode().strip())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(code_dir), str(model_dir)],
        cwd=code_dir, env={"PYTHONPATH": str(code_dir), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    # THEN the handlers load the model and answer a (all-missing) CSV row
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("200 text/csv")
    assert (code_dir / contract.SERVING_PROGRAM).read_text() == contract.SERVING_SHIM_SOURCE


def test_train_without_transformer_is_a_data_error(splits: Path, tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"transformer\.json not found in the transformer channel"):
        train(data_of(splits, transformer_dir=tmp_path), tmp_path / "model", FAST)


@pytest.fixture
def opt_ml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for the training container's /opt/ml, with no SM_* variables (SageMaker sets none)."""
    for var in ("SM_CHANNEL_TRAIN", "SM_CHANNEL_VALIDATION", "SM_CHANNEL_TRANSFORMER", "SM_MODEL_DIR"):
        monkeypatch.delenv(var, raising=False)
    root = tmp_path / "opt_ml"
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(root))
    return root


def lay_out_job(
    root: Path,
    splits: Path,
    hyperparameters: dict[str, str],
    channels: tuple[str, ...] = ("train", "validation", "transformer"),
) -> None:
    """What SageMaker puts in /opt/ml before the command starts: channels and hyperparameters.json."""
    for name in channels:
        shutil.copytree(splits / name, root / "input" / "data" / name)
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))


def failure_text(root: Path) -> str:
    return (root / "output" / "failure").read_text()


def test_main_trains_from_what_sagemaker_gives_the_container(splits: Path, opt_ml: Path) -> None:
    # GIVEN the channels and the hyperparameters (strings, some JSON-quoted) where SageMaker puts them
    lay_out_job(opt_ml, splits, {"num_round": "6", "max_depth": "3", "eta": '"0.3"', "subsample": "1"})
    # WHEN train.py runs with no arguments (the job's entrypoint passes none)
    assert main([]) == 0
    # THEN the model lands in /opt/ml/model, trained with the file's values, and no failure is written
    meta = json.loads((opt_ml / "model" / contract.MODEL_META_FILE).read_text())
    assert meta["hyperparameters"] == {
        "num_round": 6, "max_depth": 3, "eta": 0.3, "subsample": 1.0, "early_stopping_rounds": 20, "seed": 42,
    }  # fmt: skip
    assert not (opt_ml / "output" / "failure").exists()


def test_flags_win_over_the_hyperparameters_file(splits: Path, opt_ml: Path) -> None:
    lay_out_job(opt_ml, splits, {"num_round": "50", "max_depth": "2"})
    assert main(["--num_round", "4", "--early_stopping_rounds", "0"]) == 0
    meta = json.loads((opt_ml / "model" / contract.MODEL_META_FILE).read_text())
    assert (meta["hyperparameters"]["num_round"], meta["hyperparameters"]["max_depth"]) == (4, 2)
    assert meta["num_boosted_rounds"] == 4


def test_sm_channel_and_model_dir_variables_are_honoured(
    splits: Path, opt_ml: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN no channel under /opt/ml, but SM_* variables naming folders elsewhere (as the toolkit sets them)
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(splits / "train"))
    monkeypatch.setenv("SM_CHANNEL_VALIDATION", str(splits / "validation"))
    monkeypatch.setenv("SM_CHANNEL_TRANSFORMER", str(splits / "transformer"))
    monkeypatch.setenv("SM_MODEL_DIR", str(tmp_path / "model"))
    # WHEN train.py runs THEN it reads and writes there
    assert main(["--num_round", "5"]) == 0
    assert json.loads((tmp_path / "model" / contract.MODEL_META_FILE).read_text())["num_boosted_rounds"] <= 5


def _header_mismatch(splits: Path) -> str:
    transformer = FeatureTransformer.from_json(
        (splits / "transformer" / contract.TRANSFORMER_FILE).read_text()
    )
    expected = [contract.TARGET_COLUMN_IN_SPLITS, *transformer.output_names]
    return (
        f"DataValidationError: {FIRST_TRAIN} header does not match transformer.json: expected "
        f"{len(expected)} columns starting {expected[:3]}, got 2 starting ['this is not', 'the header']"
    )


ACCEPTED = "early_stopping_rounds, eta, max_depth, num_round, seed, subsample"
ALL = ("train", "validation", "transformer")


#: (case, hyperparameters.json, argv, channels present, the failure file's text)
FAILURES = [
    ("bad data", {}, [], ALL, None),
    (
        "bad hyperparameter", {"max_depth": "abc"}, [], ALL,
        "DataValidationError: bad hyperparameter(s): max_depth must be an integer, got 'abc'",
    ),
    (
        "bad hyperparameter flag", {}, ["--max_depth", "abc"], ALL,
        "DataValidationError: bad hyperparameter(s): max_depth must be an integer, got 'abc'",
    ),
    (
        "out-of-range hyperparameters", {"subsample": "1.5", "eta": "0"}, [], ALL,
        "DataValidationError: bad hyperparameter(s): subsample must be in (0, 1], got 1.5; "
        "eta must be > 0, got 0",
    ),
    (
        "unknown hyperparameter", {"max_dept": "3", "sagemaker_program": '"train.py"'}, [],
        ALL,
        "DataValidationError: unknown hyperparameter(s) max_dept, sagemaker_program; "
        f"train.py accepts {ACCEPTED}",
    ),
    (
        "missing channel", {}, [], ("train",),
        "DataValidationError: input channel 'validation' is missing: /opt/ml/input/data/validation "
        "does not exist (the training job needs a channel named 'validation')",
    ),
    (
        "missing transformer channel", {}, [], ("train", "validation"),
        "DataValidationError: input channel 'transformer' is missing: /opt/ml/input/data/transformer "
        "does not exist (the training job needs a channel named 'transformer')",
    ),
    (
        "no part files", {}, [], ("validation", "transformer", "empty-train"),
        "DataValidationError: no part-*.csv file in the train channel",
    ),
    (
        "header-only part files", {}, [], (*ALL, "header-only"),
        "DataValidationError: part-algo-1-00.csv, part-algo-1-01.csv, part-algo-1-02.csv have no rows",
    ),
    (
        "chunk rows below 1", {}, ["--chunk-rows", "0"], ALL,
        "DataValidationError: --chunk-rows must be >= 1, got 0",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "hyperparameters", "argv", "channels", "expected"), FAILURES, ids=[f[0] for f in FAILURES]
)
def test_every_failure_reaches_the_failure_file_with_its_reason(
    splits: Path,
    opt_ml: Path,
    case: str,
    hyperparameters: dict[str, str],
    argv: list[str],
    channels: tuple[str, ...],
    expected: str | None,
) -> None:
    # GIVEN a job broken in one way (the data in its channel, a hyperparameter, or a channel)
    lay_out_job(opt_ml, splits, hyperparameters, tuple(c for c in channels if c in ALL))
    train_channel = opt_ml / "input" / "data" / "train"
    if case == "bad data":
        (train_channel / FIRST_TRAIN).write_text("this is not,the header\n1,2\n")
        expected = _header_mismatch(splits)
    if "empty-train" in channels:
        train_channel.mkdir(parents=True)
    if "header-only" in channels:
        for part in sorted(train_channel.glob("part-*.csv")):
            part.write_text(part.read_text().splitlines()[0] + "\n")
    # WHEN train.py runs
    code = main(argv)
    # THEN it exits 1 with exactly that reason where SageMaker reads it, and writes no model
    assert code == 1
    assert failure_text(opt_ml) == expected
    assert not (opt_ml / "model" / contract.MODEL_FILE).exists()


def test_a_hyperparameters_file_that_is_not_an_object_is_named(splits: Path, opt_ml: Path) -> None:
    lay_out_job(opt_ml, splits, {})
    (opt_ml / "input" / "config" / "hyperparameters.json").write_text('["num_round", "5"]')
    assert main([]) == 1
    assert failure_text(opt_ml) == (
        "DataValidationError: /opt/ml/input/config/hyperparameters.json "
        "is not a JSON object of hyperparameters"
    )


def test_checkpoints_are_written_while_training(splits: Path, tmp_path: Path) -> None:
    hp = Hyperparameters(num_round=25, max_depth=2, early_stopping_rounds=0)
    train(data_of(splits), tmp_path / "model", hp, tmp_path / "ckpt")
    checkpoint = xgb.Booster()
    checkpoint.load_model(str(tmp_path / "ckpt" / contract.CHECKPOINT_FILE))
    assert checkpoint.num_boosted_rounds() == 20  # the last multiple of the 10-round interval
    assert not list((tmp_path / "ckpt").glob("*.partial.json"))


def test_an_interrupted_job_resumes_from_its_checkpoint(
    splits: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a checkpoint left by a spot job interrupted after 10 of 25 rounds
    ckpt = tmp_path / "ckpt"
    first = Hyperparameters(num_round=10, max_depth=2, early_stopping_rounds=0)
    train(data_of(splits), tmp_path / "first", first, ckpt)
    saved = xgb.Booster()
    saved.load_model(str(ckpt / contract.CHECKPOINT_FILE))
    # WHEN the restarted job trains with the full round count and the same checkpoint folder
    full = Hyperparameters(num_round=25, max_depth=2, early_stopping_rounds=0)
    with caplog.at_level("INFO"):
        meta = train(data_of(splits), tmp_path / "model", full, ckpt)
    # THEN it continues from round 10 rather than starting over, keeping the first 10 trees
    assert "resuming from checkpoint after 10 rounds" in caplog.text
    assert meta["num_boosted_rounds"] == 25
    model = xgb.Booster()
    model.load_model(str(tmp_path / "model" / contract.MODEL_FILE))
    assert model[:10].save_raw("json") == saved.save_raw("json")


def test_main_uses_the_container_checkpoint_dir_only_when_it_exists(
    splits: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(tmp_path / "opt_ml"))
    args = ["--train-dir", str(splits / "train"), "--validation-dir", str(splits / "validation")]
    args = ["--transformer-dir", str(splits / "transformer"), *args]
    args += ["--model-dir", str(tmp_path / "m1"), "--num_round", "12", "--early_stopping_rounds", "0"]
    assert main(args) == 0
    assert not (tmp_path / "opt_ml" / "checkpoints").exists()
    (tmp_path / "opt_ml" / "checkpoints").mkdir(parents=True)
    assert main([*args[:-6], "--model-dir", str(tmp_path / "m2"), "--num_round", "12"]) == 0
    assert (tmp_path / "opt_ml" / "checkpoints" / contract.CHECKPOINT_FILE).is_file()
