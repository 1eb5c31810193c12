"""SageMaker data-capture lines: written in the endpoint's format and layout, read back."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ml_code import contract
from ml_code.serving.capture import UTC, CaptureWriter, capture_line, flush_all, read_lines, read_requests

WHEN = datetime(2026, 11, 28, 19, 0, 5, tzinfo=UTC)


def test_a_line_has_sagemakers_shape_and_text_encodings() -> None:
    line = json.loads(capture_line(b"1,2,3", "text/csv", b'{"p": 1}', "application/json", WHEN))
    assert set(line) == {"captureData", "eventMetadata", "eventVersion"}
    assert line["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv", "mode": "INPUT", "data": "1,2,3", "encoding": "CSV",
    }  # fmt: skip
    assert line["captureData"]["endpointOutput"]["encoding"] == "JSON"
    assert line["eventMetadata"]["inferenceTime"] == "2026-11-28T19:00:05Z"
    assert len(line["eventMetadata"]["eventId"]) == 36
    assert line["eventVersion"] == "0"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"\xff\xfe binary", "application/x-npy"), (b"\xff not utf-8", "text/csv")],
)
def test_other_types_and_invalid_utf8_are_base64(body: bytes, content_type: str) -> None:
    side = json.loads(capture_line(body, content_type, b"", "text/csv", WHEN))["captureData"]["endpointInput"]
    assert side["encoding"] == "BASE64"
    assert base64.b64decode(side["data"]) == body


def test_writer_round_trip_in_the_hourly_layout(tmp_path: Path) -> None:
    # GIVEN a writer; WHEN two pairs are written and the writer closed
    writer = CaptureWriter(tmp_path, "ep")
    assert writer.write(b'{"age": 40}', "application/json; charset=utf-8", b"0.3", "text/csv")
    assert writer.write(b"41,x", "text/csv", b"0.4", "text/csv")
    writer.close()
    # THEN one file under <endpoint>/AllTraffic/yyyy/mm/dd/hh holds both, readable back
    (path,) = tmp_path.rglob(f"*{contract.CAPTURE_FILE_SUFFIX}")
    endpoint, variant, *hour, _ = path.relative_to(tmp_path).parts
    assert (endpoint, variant) == ("ep", "AllTraffic")
    first, second = list(read_requests(tmp_path))
    assert first is not None
    assert second is not None
    assert (first.data, first.content_type) == ('{"age": 40}', "application/json; charset=utf-8")
    assert second.data == "41,x"
    assert hour == first.inference_time.strftime("%Y/%m/%d/%H").split("/")
    assert abs(datetime.now(UTC) - first.inference_time) < timedelta(minutes=5)
    assert not writer.write(b"late", "text/csv", b"", "text/csv")  # closed: dropped


def test_flush_makes_queued_pairs_readable_without_closing(tmp_path: Path) -> None:
    writer = CaptureWriter(tmp_path, "ep")
    for i in range(50):
        writer.write(f"{i}".encode(), "text/csv", b"1", "text/csv")
    assert flush_all()
    assert [r.data for r in read_requests(tmp_path) if r] == [str(i) for i in range(50)]
    writer.close()


def test_sampling_keeps_about_the_configured_share(tmp_path: Path) -> None:
    writer = CaptureWriter(tmp_path, "ep", sampling_percent=20, seed=7)
    kept = sum(writer.write(b"1", "text/csv", b"1", "text/csv") for _ in range(2000))
    writer.close()
    assert 300 < kept < 500
    assert len(list(read_requests(tmp_path))) == kept


def test_sampling_percent_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        CaptureWriter(tmp_path, "ep", sampling_percent=150)


def test_bad_lines_are_reported_with_their_place(tmp_path: Path) -> None:
    good = capture_line(b"1,2", "text/csv", b"1", "text/csv", WHEN)
    no_input = json.dumps({"captureData": {}, "eventMetadata": {"inferenceTime": "2026-11-28T19:00:00Z"}})
    bad_time = good.replace("2026-11-28T19:00:05Z", "yesterday")
    path = tmp_path / "ep" / "x.jsonl"
    path.parent.mkdir()
    path.write_bytes(
        b"\n".join([good.encode(), b"", b"{oops", no_input.encode(), bad_time.encode(), b"\xff"])
    )
    found = [(line_no, request is not None) for _, line_no, request in read_lines(tmp_path)]
    assert found == [(1, True), (3, False), (4, False), (5, False), (6, False)]


def test_millisecond_inference_times_are_read(tmp_path: Path) -> None:
    line = capture_line(b"1", "text/csv", b"1", "text/csv", WHEN).replace("19:00:05Z", "19:00:05.123Z")
    (tmp_path / "a.jsonl").write_text(line + "\n")
    (request,) = list(read_requests(tmp_path))
    assert request is not None
    assert request.inference_time == WHEN
