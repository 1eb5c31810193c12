"""The local server captures traffic in SageMaker's data-capture format when asked to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from serving_models import build_model, raw_rows, tar_model

from ml_code import contract
from ml_code.serving.capture import flush_all, read_requests
from ml_code.serving.client import invoke
from ml_code.serving.serve import parse_args, serve_in_thread, serve_subprocess


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(build_model(tmp_path_factory.mktemp("capture-model"), "binary"))


def _body(rows: int = 3) -> bytes:
    return json.dumps(raw_rows("binary", rows).where(lambda f: f.notna(), None).to_dict("records")).encode()


def test_answered_requests_are_captured_and_rejected_ones_are_not(model: Path, tmp_path: Path) -> None:
    capture = tmp_path / "capture"
    body = _body()
    with serve_in_thread(model, capture_dir=capture, endpoint_name="ep-prod") as url:
        ok = invoke(url, body, content_type=contract.CONTENT_TYPE_JSON)
        bad = invoke(url, b"{not json", content_type=contract.CONTENT_TYPE_JSON)
        # THEN the capture is readable while still serving, once flushed
        assert flush_all()
        (request,) = [r for r in read_requests(capture) if r is not None]
    assert ok.status == 200
    assert bad.status == 400
    assert json.loads(request.data) == json.loads(body)
    assert request.content_type == contract.CONTENT_TYPE_JSON
    (path,) = capture.rglob("*.jsonl")
    # <endpoint>/AllTraffic/yyyy/mm/dd/hh/<file>.jsonl
    parts = path.relative_to(capture).parts
    assert parts[:2] == ("ep-prod", "AllTraffic")
    assert [len(p) for p in parts[2:6]] == [4, 2, 2, 2]
    line = json.loads(path.read_text())
    assert line["captureData"]["endpointOutput"]["data"] == ok.body.decode()
    assert line["captureData"]["endpointOutput"]["mode"] == "OUTPUT"


def test_sampling_percent_zero_captures_nothing(model: Path, tmp_path: Path) -> None:
    with serve_in_thread(model, capture_dir=tmp_path, endpoint_name="ep", capture_percent=0) as url:
        assert invoke(url, _body(), content_type=contract.CONTENT_TYPE_JSON).status == 200
    assert not list(tmp_path.rglob("*.jsonl"))


def test_no_capture_unless_asked(model: Path, tmp_path: Path) -> None:
    with serve_in_thread(model) as url:
        assert invoke(url, _body(), content_type=contract.CONTENT_TYPE_JSON).status == 200
    assert not list(tmp_path.rglob("*.jsonl"))


def test_worker_processes_capture_every_answered_request(model: Path, tmp_path: Path) -> None:
    # GIVEN the CLI server with two workers and capture on
    archive = tar_model(model, tmp_path / "model.tar.gz")
    capture = tmp_path / "capture"
    with serve_subprocess(archive, workers=2, capture_dir=capture, endpoint_name="ep") as url:
        statuses = [invoke(url, _body(2), content_type=contract.CONTENT_TYPE_JSON).status for _ in range(12)]
    # THEN every answered request is on disk once the server has stopped
    assert statuses == [200] * 12
    captured = [r for r in read_requests(capture) if r is not None]
    assert len(captured) == 12
    assert {p.relative_to(capture).parts[:2] for p in capture.rglob("*.jsonl")} == {("ep", "AllTraffic")}


def test_cli_refuses_a_capture_percent_outside_0_to_100() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--model", "m", "--capture-dir", "c", "--capture-percent", "101"])
    assert parse_args(["--model", "m", "--capture-dir", "c"]).capture_percent == 100.0
