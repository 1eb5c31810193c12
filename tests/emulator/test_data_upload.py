"""The demo's data upload: one file for one Preprocess instance, the rows dealt over P files for P,
since ``ShardedByS3Key`` deals out a prefix's objects, not rows (issue 14)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.data_upload import raw_data_instances, upload_data
from emulator.local_aws import LocalAws, moto_server
from emulator.provision import OfflinePipeline, ProvisionError

BUCKET = "artifacts"


def _pipeline(instances: int | None) -> OfflinePipeline:
    steps: list[dict[str, Any]] = []
    if instances is not None:
        cluster = {"InstanceCount": instances, "InstanceType": "ml.m5.large"}
        steps.append({"Name": "Preprocess", "Arguments": {"ProcessingResources": {"ClusterConfig": cluster}}})
    definition = {
        "Parameters": [
            {"Name": "InputDataUri", "Type": "String", "DefaultValue": f"s3://{BUCKET}/data/raw/"}
        ],
        "Steps": steps,
    }
    return OfflinePipeline(
        name="p", definition=definition, role_arn="arn:aws:iam::1:role/r", model_package_group="g"
    )


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with moto_server() as local:
        local.ensure_bucket(BUCKET)
        yield local


def _data(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "sample.csv"
    lines = ["id,note,label"] + [f'{i},"a, ""quoted""\nline {i}",{i % 2}' for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows(aws: LocalAws, key: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(aws.read_object(f"s3://{BUCKET}/{key}").decode())))


def test_instances_come_from_the_preprocess_step():
    assert raw_data_instances(_pipeline(3)) == 3
    assert raw_data_instances(_pipeline(None)) == 1


def test_one_instance_gets_the_file_as_it_is(aws, tmp_path):
    data = _data(tmp_path, 5)
    assert upload_data(aws, _pipeline(1), data) == f"s3://{BUCKET}/data/raw/sample.csv"
    assert aws.read_object(f"s3://{BUCKET}/data/raw/sample.csv") == data.read_bytes()


def test_p_instances_get_p_files_with_every_row_once_and_the_header_each(aws, tmp_path):
    data = _data(tmp_path, 7)
    shown = upload_data(aws, _pipeline(3), data)
    assert shown.startswith(f"s3://{BUCKET}/data/raw/sample-1-of-3.csv (and 2 more")
    parts = [_rows(aws, f"data/raw/sample-{i}-of-3.csv") for i in (1, 2, 3)]
    assert all(part[0] == ["id", "note", "label"] for part in parts)
    assert [len(part) - 1 for part in parts] == [3, 2, 2]
    # a quoted field with a comma and a newline stays one field of one row
    everything = sorted((row for part in parts for row in part[1:]), key=lambda r: int(r[0]))
    assert everything == list(csv.reader(io.StringIO(data.read_text())))[1:]


def test_an_empty_file_is_refused_by_name(aws, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ProvisionError, match=r"empty\.csv is empty"):
        upload_data(aws, _pipeline(2), empty)
