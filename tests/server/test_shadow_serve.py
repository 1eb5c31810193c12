"""The local server's shadow variant: production answers, the shadow's answers are only captured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from serving_models import build_model, raw_rows

from ml_code import contract
from ml_code.serving.client import invoke
from ml_code.serving.serve import serve_in_thread
from ml_code.serving.shadow import PRODUCTION_VARIANT, SHADOW_VARIANT, ShadowApp, serve_with_shadow


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    production = build_model(tmp_path_factory.mktemp("production"), "binary", rows=400)
    shadow = build_model(tmp_path_factory.mktemp("shadow"), "binary", rows=200)
    return production, shadow


def _body(rows: int) -> bytes:
    frame = raw_rows("binary", rows).where(lambda f: f.notna(), None)
    return json.dumps(frame.to_dict("records")).encode()


def _records(capture: Path, variant: str) -> list[dict[str, object]]:
    return [json.loads(line) for path in sorted((capture / "ep").glob(f"{variant}/**/*.jsonl"))
            for line in path.read_text().splitlines()]  # fmt: skip


def test_production_answers_and_both_variants_are_captured(models: tuple[Path, Path], tmp_path: Path) -> None:
    # GIVEN production served with a different model as its shadow, capturing
    production, shadow = models
    capture = tmp_path / "capture"
    bodies = [_body(n) for n in (1, 2, 3)]
    with serve_in_thread(production) as plain:
        expected = [invoke(plain, body, content_type=contract.CONTENT_TYPE_JSON).body for body in bodies]
    with serve_with_shadow(production, shadow, capture_dir=capture, endpoint_name="ep") as (url, app):
        # WHEN three requests are sent
        answers = [invoke(url, body, content_type=contract.CONTENT_TYPE_JSON) for body in bodies]
        app.flush()
    # THEN the caller gets production's answers, exactly as without a shadow
    assert [a.body for a in answers] == expected
    # AND each variant's folder holds one record per request, the same inputs
    main, copy = _records(capture, PRODUCTION_VARIANT), _records(capture, SHADOW_VARIANT)
    assert len(main) == len(copy) == 3
    inputs = sorted(r["captureData"]["endpointInput"]["data"] for r in main)  # type: ignore[index]
    assert sorted(r["captureData"]["endpointInput"]["data"] for r in copy) == inputs  # type: ignore[index]
    # AND the shadow's own answers were captured (another model: not production's bytes)
    shadow_outputs = {r["captureData"]["endpointOutput"]["data"] for r in copy}  # type: ignore[index]
    assert shadow_outputs != {a.body.decode() for a in answers}
    # AND latencies were recorded per variant
    assert len(app.latencies_ms[PRODUCTION_VARIANT]) == len(app.latencies_ms[SHADOW_VARIANT]) == 3


def test_sampling_zero_sends_nothing_to_the_shadow(models: tuple[Path, Path], tmp_path: Path) -> None:
    production, shadow = models
    with serve_with_shadow(production, shadow, sampling_percent=0, capture_dir=tmp_path) as (url, app):
        assert invoke(url, _body(1), content_type=contract.CONTENT_TYPE_JSON).status == 200
        app.flush()
    assert app.shadowed == 0
    assert not list(tmp_path.glob(f"*/{SHADOW_VARIANT}/**/*.jsonl"))
    assert list(tmp_path.glob(f"*/{PRODUCTION_VARIANT}/**/*.jsonl"))


def test_a_refused_request_is_not_replicated(models: tuple[Path, Path], tmp_path: Path) -> None:
    production, shadow = models
    with serve_with_shadow(production, shadow) as (url, app):
        assert invoke(url, b"{not json", content_type=contract.CONTENT_TYPE_JSON).status == 400
        app.flush()
    assert app.shadowed == 0


def test_latencies_are_written_for_the_report(models: tuple[Path, Path], tmp_path: Path) -> None:
    production, shadow = models
    with serve_with_shadow(production, shadow) as (url, app):
        invoke(url, _body(2), content_type=contract.CONTENT_TYPE_JSON)
        app.flush()
        app.write_latencies(tmp_path / "latency.json")
    written = json.loads((tmp_path / "latency.json").read_text())
    assert set(written) == {PRODUCTION_VARIANT, SHADOW_VARIANT}
    assert all(len(v) == 1 and v[0] > 0 for v in written.values())


def test_a_bad_sampling_percent_is_refused() -> None:
    with pytest.raises(ValueError, match="shadow sampling percent"):
        ShadowApp(object(), object(), sampling_percent=101)  # type: ignore[arg-type]
