"""The local server captures traffic in SageMaker's data-capture format when asked to."""

from __future__ import annotations

import json
from pathlib import Path

from serving_models import build_model, raw_rows

from ml_code import contract
from ml_code.capture import read_requests
from ml_code.serve import serve_in_thread
from ml_code.serving_client import invoke


def test_answered_requests_are_captured_and_rejected_ones_are_not(tmp_path: Path) -> None:
    model = build_model(tmp_path / "m", "binary")
    capture = tmp_path / "capture"
    body = json.dumps(raw_rows("binary", 3).where(lambda f: f.notna(), None).to_dict("records")).encode()
    with serve_in_thread(model, capture_dir=capture, endpoint_name="ep-prod") as url:
        ok = invoke(url, body, content_type=contract.CONTENT_TYPE_JSON)
        bad = invoke(url, b"{not json", content_type=contract.CONTENT_TYPE_JSON)
    assert ok.status == 200
    assert bad.status == 400
    (request,) = [r for r in read_requests(capture) if r is not None]
    assert json.loads(request.data) == json.loads(body)
    (path,) = capture.rglob("*.jsonl")
    assert path.relative_to(capture).parts[:2] == ("ep-prod", "AllTraffic")


def test_no_capture_unless_asked(tmp_path: Path) -> None:
    model = build_model(tmp_path / "m", "binary")
    with serve_in_thread(model) as url:
        assert invoke(url, b"1,2", content_type=contract.CONTENT_TYPE_CSV).status in (200, 400)
    assert not list(tmp_path.rglob("*.jsonl"))
