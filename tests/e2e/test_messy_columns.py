"""The messy churn export through the step CLIs (issue 17's acceptance case): Preprocess keeps the
customer id out of the features and makes the signup date numbers, Train and Evaluate run on that, and
the served model answers a raw row as a client sends it (and names the id when a row still sends it)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from test_steps_cli import FAST_TRAINING, at, handover, run_step

from ml_code import contract
from ml_code.messy_data import messy
from ml_code.serving.inference import model_fn, respond
from ml_code.steps.preprocess_outputs import FEATURE_REPORT_FILE, FEATURE_TABLE_FILE


def test_messy_columns_preprocess_train_evaluate_and_serve(tmp_path: Path) -> None:
    # GIVEN the churn export with a customer id, a signup date, a constant, gaps and a yes/no target
    pre, trn, ev = tmp_path / "preprocess", tmp_path / "train", tmp_path / "evaluate"
    raw = at(pre, contract.RAW_DATA_DIR) / "data.csv"
    raw.parent.mkdir(parents=True)
    messy(1000, 5).to_csv(raw, index=False)

    # WHEN preprocess runs (the region declared text through pipeline.columns' argument)
    done = run_step("preprocess", pre, "--target-column", "churn", "--problem-type", "binary",
                    "--column", "region=text")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    outputs = {name: at(pre, path) for name, path in contract.PREPROCESS_OUTPUTS.items()}

    # THEN its report says what each column became, and the transformer follows it
    report = json.loads((outputs["baseline"] / FEATURE_REPORT_FILE).read_text())
    roles = {c["name"]: c["role"] for c in report["columns"]}
    assert roles["customer id"] == "identifier"
    assert roles["signup date"] == "date"
    assert (roles["source"], roles["region"]) == ("constant", "text")
    assert "| customer id | identifier |" in (outputs["baseline"] / FEATURE_TABLE_FILE).read_text()
    transformer = json.loads((outputs["transformer"] / contract.TRANSFORMER_FILE).read_text())
    assert "signup date__days" in transformer["output_names"]
    assert not any(name.startswith("customer id") for name in transformer["output_names"])

    # AND train and evaluate run on those outputs as the pipeline hands them over
    for channel in (contract.TRAIN_CHANNEL, contract.VALIDATION_CHANNEL, contract.TRANSFORMER_CHANNEL):
        handover(outputs[channel], at(trn, contract.TRAINING_CHANNEL_ROOT) / channel)
    done = run_step("train", trn, *FAST_TRAINING)
    assert done.returncode == 0, done.stdout + done.stderr
    model_dir = at(trn, contract.TRAINING_MODEL_DIR)
    at(ev, contract.MODEL_INPUT_DIR).mkdir(parents=True)
    with tarfile.open(at(ev, contract.MODEL_INPUT_DIR) / "model.tar.gz", "w:gz") as tar:
        for path in model_dir.iterdir():
            tar.add(path, arcname=path.name)
    handover(outputs["test"], at(ev, contract.TEST_INPUT_DIR))
    done = run_step("evaluate", ev, "--problem-type", "binary")
    assert done.returncode == 0, done.stdout + done.stderr
    evaluation = json.loads((at(ev, contract.EVALUATION_DIR) / contract.EVALUATION_FILE).read_text())
    assert evaluation[contract.GATE_SECTION]["metric"] == "auc"

    # AND the served model answers a raw row with the date as text and a gap, without the id
    model = model_fn(str(model_dir))
    row = {"signup date": "2023-02-14", "tenure months": 16, "monthly charges": None, "total charges": 1200.5,
           "age": 41, "support calls": 3, "num products": 1, "contract": "Month-to-month",
           "payment method": "Electronic check", "internet service": "Fiber optic"}  # fmt: skip
    reply = respond(model, json.dumps([row]), "application/json", "application/json")
    assert reply.status == 200, reply.body
    answer = json.loads(reply.body)
    assert answer["predictions"][0]["predicted_label"] in {"yes", "no"}
    # a row that still carries the customer id is refused, naming why
    reply = respond(
        model, json.dumps([{**row, "customer id": "C0000001"}]), "application/json", "application/json"
    )
    assert reply.status == 400
    assert b"'customer id' is an identifier: not a model input" in reply.body
