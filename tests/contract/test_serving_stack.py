"""The model.tar.gz the pipeline builds, served by the image's stack (Python 3.10, the toolkit's
gunicorn + Flask worker) and by `make serve`: every request of a catalogue gets the same status,
content type (media type and charset) and body from both."""

from __future__ import annotations

import contextlib
import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pytest
from contract_serving import WORKERS, toolkit_stack

from ml_code import contract, sample_data
from ml_code.serving.serve import serve_subprocess

pytestmark = pytest.mark.contract

CSV, JSON, JSONL = contract.CONTENT_TYPE_CSV, contract.CONTENT_TYPE_JSON, contract.CONTENT_TYPE_JSONLINES


@pytest.fixture(scope="module")
def toolkit(contract_python: Path, model_tar: Path, workspace: Path) -> Iterator[tuple[str, Path]]:
    with toolkit_stack(model_tar, workspace / "serving-stack") as served:
        yield served


@pytest.fixture(scope="module")
def local_url(model_tar: Path) -> Iterator[str]:
    # the model's environment, as on the toolkit side (not whatever this shell has)
    with contextlib.ExitStack() as stack:
        with pytest.MonkeyPatch.context() as patch:  # only while the server process starts
            patch.setenv(contract.DEFAULT_ACCEPT_ENV, contract.DEFAULT_ACCEPT)
            url = stack.enter_context(serve_subprocess(model_tar, workers=WORKERS))
        yield url


@dataclass(frozen=True)
class Reply:
    status: int
    #: (media type, charset) of the Content-Type header, lower case
    content_type: tuple[str, str]
    body: bytes


def _content_type(header: str) -> tuple[str, str]:
    media, *params = (part.strip().lower() for part in header.split(";"))
    charset = next((p.split("=", 1)[1].strip('"') for p in params if p.startswith("charset=")), "")
    return media, charset


def send(url: str, body: bytes, headers: dict[str, str]) -> Reply:
    """POST /invocations with exactly these headers (http.client adds only Host, Accept-Encoding
    and Content-Length)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    try:
        connection.request("POST", "/invocations", body=body, headers=headers)
        reply = connection.getresponse()
        return Reply(reply.status, _content_type(reply.getheader("Content-Type", "")), reply.read())
    finally:
        connection.close()


def _features(rows: int) -> pd.DataFrame:
    """Raw feature rows (no target), in the model's feature order."""
    return sample_data.generate(rows, seed=99).drop(columns=[contract.SAMPLE_TARGET_COLUMN])


def _csv(rows: int, *, header: bool = False) -> bytes:
    return _features(rows).to_csv(index=False, header=header).encode()


def _records(rows: int) -> list[dict[str, object]]:
    return json.loads(_features(rows).to_json(orient="records"))


def _lists(rows: int) -> list[list[object]]:
    return json.loads(_features(rows).to_json(orient="values"))


@dataclass(frozen=True)
class Case:
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _row_with(index: int, value: str) -> bytes:
    cells = _csv(1).decode().strip().split(",")
    cells[index] = value
    return ",".join(cells).encode()


CATALOGUE: dict[str, Case] = {
    # valid requests
    "csv one row": Case(_csv(1), {"Content-Type": CSV, "Accept": CSV}),
    "csv rows, json answer": Case(_csv(20), {"Content-Type": CSV, "Accept": JSON}),
    "csv rows, json lines answer": Case(_csv(5), {"Content-Type": CSV, "Accept": JSONL}),
    "json instances as lists": Case(json.dumps({"instances": _lists(5)}).encode(), {"Content-Type": JSON}),
    "json instances as objects": Case(
        json.dumps({"instances": _records(5)}).encode(), {"Content-Type": JSON, "Accept": CSV}
    ),
    "json lines": Case(
        "\n".join(json.dumps(r) for r in _records(5)).encode(), {"Content-Type": JSONL, "Accept": JSONL}
    ),
    "large csv body (about 2 MB)": Case(_csv(25_000), {"Content-Type": CSV, "Accept": CSV}),
    # Accept
    "accept missing": Case(_csv(3), {"Content-Type": CSV}),
    "accept */*": Case(_csv(3), {"Content-Type": CSV, "Accept": "*/*"}),
    "accept with q-values": Case(
        _csv(3), {"Content-Type": CSV, "Accept": "text/csv;q=0.9, application/json;q=0.5"}
    ),
    "accept image/png": Case(_csv(1), {"Content-Type": CSV, "Accept": "image/png"}),
    # Content-Type
    "content type missing (json body)": Case(json.dumps({"instances": _lists(2)}).encode()),
    "content type missing (csv body)": Case(_csv(2)),
    "content type text/plain": Case(_csv(1), {"Content-Type": "text/plain"}),
    "content type with charset": Case(_csv(2), {"Content-Type": "text/csv; charset=utf-8", "Accept": CSV}),
    "ContentType header (AWS spelling)": Case(_csv(2), {"ContentType": CSV, "Accept": CSV}),
    # malformed bodies
    "csv header line": Case(_csv(3, header=True), {"Content-Type": CSV, "Accept": CSV}),
    "csv wrong column count": Case(b"1,2,3\n", {"Content-Type": CSV, "Accept": CSV}),
    "csv abc in a numeric column": Case(_row_with(0, "abc"), {"Content-Type": CSV, "Accept": CSV}),
    "csv invalid utf-8": Case(_row_with(6, "@").replace(b"@", b"Two\xffyear"), {"Content-Type": CSV}),
    "json bad syntax": Case(b'{"instances": [[1, 2', {"Content-Type": JSON}),
    "json empty instances": Case(b'{"instances": []}', {"Content-Type": JSON}),
    "empty body": Case(b"", {"Content-Type": CSV, "Accept": CSV}),
}


def test_the_catalogue_covers_a_2_mb_body() -> None:
    assert 1.5e6 < len(CATALOGUE["large csv body (about 2 MB)"].body) < contract.MAX_PAYLOAD_BYTES


def test_both_answer_ping(toolkit: tuple[str, Path], local_url: str) -> None:
    for url in (toolkit[0], local_url):
        connection = http.client.HTTPConnection(urlsplit(url).hostname or "", urlsplit(url).port, timeout=30)
        connection.request("GET", "/ping")
        assert connection.getresponse().status == 200
        connection.close()


def test_the_stack_is_the_toolkits_gunicorn_with_the_installed_user_module(toolkit: tuple[str, Path]) -> None:
    log = toolkit[1].read_text(errors="replace")
    command = next(line for line in log.splitlines() if line.startswith("toolkit_serve: gunicorn"))
    for part in ("-k gevent", f"-w {WORKERS}", f"--worker-connections {1000 * WORKERS}", "--timeout 60"):
        assert part in command
    assert "toolkit_serving:main" in command
    # the toolkit pip-installed the model's code folder, as in the image
    assert "Successfully installed inference-1.0.0" in log


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_the_image_stack_and_make_serve_answer_alike(
    toolkit: tuple[str, Path], local_url: str, name: str
) -> None:
    case = CATALOGUE[name]
    deployed, local = send(toolkit[0], case.body, case.headers), send(local_url, case.body, case.headers)
    assert (local.status, local.content_type) == (deployed.status, deployed.content_type)
    assert local.body == deployed.body
