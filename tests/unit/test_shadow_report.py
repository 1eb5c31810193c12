"""The shadow report pairs shadow records with production's and compares them (no AWS)."""

from __future__ import annotations

import json
import shlex
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ml_code.serving.capture import capture_line
from ml_code.serving.shadow import PRODUCTION_VARIANT as SERVER_PRODUCTION
from ml_code.serving.shadow import SHADOW_VARIANT as SERVER_SHADOW
from release import shadow_metrics, shadow_report
from release.shadow_pairs import Prediction, Record, pair, parse_record, predictions
from release.shadow_sources import PRODUCTION_VARIANT, SHADOW_VARIANT

NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def _record(data: str, label: str | None, score: float, *, at: datetime = NOW, event: str = "") -> Record:
    return Record(
        event_id=event, inference_id=None, time=at, data=data, predictions=(Prediction(label, score),)
    )


def test_the_variant_names_are_the_local_servers() -> None:
    assert (PRODUCTION_VARIANT, SHADOW_VARIANT) == (SERVER_PRODUCTION, SERVER_SHADOW)


def test_a_shared_event_id_pairs_first() -> None:
    prod = [_record("a", "yes", 0.9, event="e1"), _record("a", "no", 0.1, event="e2")]
    shadow = [_record("a", "no", 0.2, event="e2")]
    pairing = pair(prod, shadow)
    assert pairing.by_id == 1
    assert pairing.by_payload == 0
    assert pairing.pairs[0][0].event_id == "e2"


def test_without_shared_ids_the_same_payload_nearest_in_time_pairs() -> None:
    # GIVEN the same payload sent twice, a minute apart, each with its own event ids
    prod = [
        _record("x", "yes", 0.8, event="p1"),
        _record("x", "no", 0.3, at=NOW + timedelta(minutes=1), event="p2"),
    ]
    shadow = [_record("x", "no", 0.4, at=NOW + timedelta(seconds=61), event="s1")]
    # WHEN paired
    pairing = pair(prod, shadow)
    # THEN the shadow copy goes with the nearer production record
    assert pairing.by_payload == 1
    assert pairing.pairs[0][0].event_id == "p2"


def test_a_copy_too_far_in_time_or_with_another_payload_stays_unpaired() -> None:
    prod = [_record("x", "yes", 0.8)]
    shadow = [_record("x", "yes", 0.8, at=NOW + timedelta(hours=1)), _record("y", "yes", 0.8)]
    pairing = pair(prod, shadow)
    assert pairing.pairs == []
    assert pairing.unmatched_shadow == 2


def test_each_production_record_pairs_once() -> None:
    prod = [_record("x", "yes", 0.8)]
    shadow = [_record("x", "yes", 0.8), _record("x", "yes", 0.7)]
    assert len(pair(prod, shadow).pairs) == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"predictions": [{"predicted_label": "yes", "probability": 0.7}]}', [Prediction("yes", 0.7)]),
        ('{"predicted_label": "b", "probabilities": {"a": 0.2, "b": 0.8}}\n', [Prediction("b", 0.8)]),
        ('{"predictions": [{"score": 3.5}]}', [Prediction(None, 3.5)]),
        ("yes,0.7\nno,0.2\n", [Prediction("yes", 0.7), Prediction("no", 0.2)]),
        ("12.5\n", [Prediction(None, 12.5)]),
        ("not a prediction", []),
    ],
)
def test_response_bodies_of_every_format_are_read(body: str, expected: list[Prediction]) -> None:
    assert list(predictions(body)) == expected


def test_a_capture_line_of_the_local_server_is_read_back() -> None:
    line = capture_line(b"1,2", "text/csv", b'{"predictions": [{"score": 2.0}]}', "application/json", NOW)
    record = parse_record(line)
    assert record is not None
    assert (record.data, record.time, record.predictions) == ("1,2", NOW, (Prediction(None, 2.0),))
    assert parse_record("{broken") is None


def test_identical_scores_have_no_distance_and_disjoint_ones_the_largest() -> None:
    scores = [i / 100 for i in range(100)]
    assert shadow_metrics.psi(scores, scores) == pytest.approx(0.0)
    assert shadow_metrics.ks(scores, scores) == 0.0
    assert shadow_metrics.ks([0.1, 0.2], [0.8, 0.9]) == 1.0
    assert shadow_metrics.psi(scores, [s + 2 for s in scores]) > 1.0  # type: ignore[operator]
    assert shadow_metrics.psi([], scores) is None


def test_regression_compares_within_the_tolerance() -> None:
    assert shadow_metrics.within_tolerance([100.0, 100.0], [104.0, 110.0], 0.05) == 0.5


def _report(n: int, *, min_requests: int, flip: int = 0) -> dict[str, Any]:
    prod = [_record(str(i), "yes", 0.9, event=f"p{i}") for i in range(n)]
    shadow = [_record(str(i), "no" if i < flip else "yes", 0.5 if i < flip else 0.9) for i in range(n)]
    return shadow_report.build_report(prod, shadow, min_requests=min_requests, tolerance=0.05)


def test_the_report_counts_agreement_and_says_when_traffic_is_short() -> None:
    enough = _report(10, min_requests=10, flip=2)
    assert (enough["paired"], enough["agreement"], enough["verdict"]) == (10, 0.8, "compared")
    assert enough["paired_by"] == {"event_or_inference_id": 0, "payload_and_time": 10}
    short = _report(3, min_requests=10)
    assert short["verdict"] == shadow_report.NOT_ENOUGH
    assert shadow_report.NOT_ENOUGH in shadow_report.summary(short)


def test_exports_are_shell_safe_and_name_every_variable(tmp_path: Path) -> None:
    # GIVEN a report whose summary holds quotes and semicolons
    report = {**_report(10, min_requests=1), "latency_ms": {"AllTraffic": {"p50": 1.0, "p90": 2.0}}}
    report["production_version"], report["shadow_version"] = 1, 2
    env = tmp_path / "shadow.env"
    env.write_text(shadow_report.exports(report))
    # WHEN a shell sources them
    names = " ".join(f'"${name}"' for name in shadow_report.EXPORTED)
    out = subprocess.run(
        ["bash", "-c", f". {shlex.quote(str(env))}; printf '%s\\n' {names}"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    # THEN each variable holds its value, the summary whole
    assert out[0] == shadow_report.summary(report)
    assert out[0].startswith("shadow v2 vs prod v1: 10 paired")
    assert out[1:5] == ["10", "1.0", "0.0", "0.0"]


def _write(root: Path, variant: str, rows: list[tuple[str, str]]) -> None:
    folder = root / "ep" / variant / NOW.strftime("%Y/%m/%d/%H")
    folder.mkdir(parents=True, exist_ok=True)
    lines = [capture_line(data.encode(), "text/csv", out.encode(), "text/csv", NOW) for data, out in rows]
    (folder / "f.jsonl").write_text("\n".join(lines) + "\n")


def test_the_cli_reports_from_a_capture_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN offline capture of both variants and the server's latency record
    _write(tmp_path, "AllTraffic", [("1,2", "yes,0.9"), ("3,4", "no,0.2"), ("5,6", "no,0.1")])
    _write(tmp_path, "Shadow", [("1,2", "yes,0.8"), ("3,4", "yes,0.6")])
    (tmp_path / "lat.json").write_text(json.dumps({"AllTraffic": [1.0, 3.0], "Shadow": [2.0, 4.0]}))
    out = tmp_path / "report.json"
    # WHEN the report runs over the last hour
    code = shadow_report.main(
        ["--endpoint", "ep", "--capture-dir", str(tmp_path), "--window-minutes", "60", "--min-requests", "2",
         "--latency-file", str(tmp_path / "lat.json"), "--out", str(out),
         "--exports", str(tmp_path / "e.env")],
        now=NOW + timedelta(minutes=1),
    )  # fmt: skip
    # THEN it writes the comparison
    assert code == 0
    report = json.loads(out.read_text())
    assert report["requests"] == {"AllTraffic": 3, "Shadow": 2}
    assert (report["paired"], report["agreement"], report["verdict"]) == (2, 0.5, "compared")
    assert report["latency_ms"]["Shadow"] == {"p50": 3.0, "p90": 3.8}
    assert "2 paired of 2 shadow requests" in capsys.readouterr().out
    assert (tmp_path / "e.env").read_text().startswith("export SHADOW_SUMMARY=")


def test_the_cli_says_what_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.json").write_text("{}")
    code = shadow_report.main(
        ["--endpoint", "ep", "--capture-dir", str(tmp_path), "--window-minutes", "60", "--min-requests", "1",
         "--model-file", str(tmp_path / "bad.json"), "--latency-file", str(tmp_path / "bad.json"),
         "--out", str(tmp_path / "r.json")],
        now=NOW,
    )  # fmt: skip
    assert code == 2
    assert "schema_version" in capsys.readouterr().err
