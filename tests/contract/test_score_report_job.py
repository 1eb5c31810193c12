"""The batch pipeline's ScoreReport under the image's Python 3.10 and pins gives what the offline
runner gives: the same manifest and the same drift reports of the scored rows, byte for byte.

The request is ScoreReport's as the batch definition writes it (the source bundle unpacked in the
``code`` input, ``python3 -m ml_code.drift.score_report`` with the run's arguments, network
isolated); its inputs are keyed, headerless rows of the sample data, their Transform output
(``<file>.out``) and the image-side Preprocess baseline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from contract_jobs import IMAGE, INTERPRETERS, OFFLINE, JobRun, run_processing
from contract_outputs import differences

from ml_code import contract, sample_data

pytestmark = pytest.mark.contract

ROWS = 600
MODULE = "ml_code.drift.score_report"
ARGUMENTS = [
    "--model-package-arn", "arn:aws:sagemaker:eu-west-1:111122223333:model-package/contract/4",
    "--version", "4",
    "--input-uri", "s3://contract-artifacts/data/batch/",
    "--output-uri", "s3://contract-artifacts/batch-scores/e1/predictions/",
    "--execution-arn", "arn:aws:sagemaker:eu-west-1:111122223333:pipeline/p/execution/e1",
    "--problem-type", "binary", "--key-column", "row_id", "--drift-check", "--threshold", "0.2",
]  # fmt: skip


def score_report_request(code_file: str) -> dict[str, Any]:
    """ScoreReport's CreateProcessingJob request, in the shape of the batch definition's."""

    def s3_input(name: str, local: str) -> dict[str, Any]:
        uri = f"s3://contract-artifacts/{name}/"
        return {"InputName": name, "S3Input": {"S3Uri": uri, "LocalPath": local, "S3DataType": "S3Prefix",
                                                 "S3InputMode": "File"}}  # fmt: skip

    return {
        "AppSpecification": {
            "ImageUri": "xgboost:3.0-5",
            "ContainerEntrypoint": [
                "/bin/sh",
                "-c",
                f"cd {contract.CODE_DIR} && tar -xzf {code_file} && exec python3 -m {MODULE} " + '"$@"',
                "sh",
            ],
            "ContainerArguments": ARGUMENTS,
        },
        "ProcessingInputs": [
            s3_input("code", contract.CODE_DIR),
            s3_input("predictions", contract.SCORE_PREDICTIONS_DIR),
            s3_input("scored", contract.SCORE_INPUT_DIR),
            s3_input("baseline", contract.SCORE_BASELINE_DIR),
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": contract.SCORE_REPORT_OUTPUT,
                    "S3Output": {
                        "S3Uri": "s3://contract-artifacts/batch-scores/e1/",
                        "LocalPath": contract.SCORE_REPORT_DIR,
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
        "NetworkConfig": {"EnableNetworkIsolation": True},
    }


@pytest.fixture(scope="module")
def score_report_runs(workspace: Path, bundle: Path, image_splits: dict[str, Path]) -> dict[str, JobRun]:
    scored, predictions = workspace / "batch-scored", workspace / "batch-predictions"
    (scored / "day").mkdir(parents=True)
    (predictions / "day").mkdir(parents=True)
    frame = sample_data.generate(ROWS, seed=21).drop(columns=["churn"])
    frame.insert(0, "row_id", [f"r{i}" for i in range(ROWS)])
    frame.to_csv(scored / "day" / "rows.csv", header=False, index=False)
    lines = "".join(f"r{i},{'yes' if i % 3 else 'no'},0.{i % 10}5\n" for i in range(ROWS))
    (predictions / "day" / f"rows.csv{contract.TRANSFORM_OUTPUT_SUFFIX}").write_text(lines)
    sources = {
        "code": bundle,
        "predictions": predictions,
        "scored": scored,
        "baseline": image_splits["baseline"],
    }
    request = score_report_request(bundle.name)
    return {
        i.name: run_processing(workspace / f"score-report-{n}", i, request, sources)
        for n, i in enumerate(INTERPRETERS)
    }


def test_score_report_outputs_are_byte_equal(score_report_runs: dict[str, JobRun]) -> None:
    image, offline = score_report_runs[IMAGE.name], score_report_runs[OFFLINE.name]
    assert image.error is None, image.error
    assert offline.error is None, offline.error
    report_dir = image.file(contract.SCORE_REPORT_DIR)
    manifest = json.loads((report_dir / "manifest.json").read_text())
    assert manifest["files"] == [{"input": "day/rows.csv", "output": "day/rows.csv.out", "rows": ROWS}]
    assert manifest["output_columns"] == ["row_id", "label", "probability"]
    assert manifest["drift"]["checked"] is True
    assert manifest["drift"]["records"] == ROWS
    assert (report_dir / "drift" / contract.DRIFT_METRICS_FILE).is_file()
    assert differences(report_dir, offline.file(contract.SCORE_REPORT_DIR)) == []
