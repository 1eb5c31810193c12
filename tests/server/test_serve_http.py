"""ml_code.serving.serve over real HTTP on ephemeral loopback ports: the hosting contract, every bad
payload's 4xx, the 6 MB limit, concurrency, recovery, and a model.tar.gz in worker processes."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from serving_models import build_model, raw_rows, tar_model

from ml_code import contract
from ml_code.serving import hosting, inference
from ml_code.serving.app import INLINE_BODY_BYTES, InvocationsApp
from ml_code.serving.client import Response, invoke
from ml_code.serving.serve import parse_args, serve_in_thread, serve_subprocess

CSV, JSON, JSONL = contract.CONTENT_TYPE_CSV, contract.CONTENT_TYPE_JSON, contract.CONTENT_TYPE_JSONLINES


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model(tmp_path_factory.mktemp("binary"), "binary")


@pytest.fixture(scope="module")
def url(model_dir: Path) -> Iterator[str]:
    with serve_in_thread(model_dir) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def rows_csv() -> bytes:
    return raw_rows("binary", 50).to_csv(index=False, header=False).encode()


def request(
    url: str, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> Response:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        reply = connection.getresponse()
        return Response(reply.status, reply.read(), reply.getheader("content-type", ""))
    finally:
        connection.close()


def test_ping_answers_200(url: str) -> None:
    assert request(url, "GET", "/ping").status == 200


@pytest.mark.parametrize("content_type", [CSV, JSON, JSONL])
def test_invocations_answer_in_the_request_format(url: str, rows_csv: bytes, content_type: str) -> None:
    lines = rows_csv.decode().splitlines()[:3]
    rows = [line.split(",") for line in lines]
    body = {
        CSV: "\n".join(lines),
        JSON: json.dumps({"instances": rows}),
        JSONL: "\n".join(json.dumps(r) for r in rows),
    }[content_type]
    reply = invoke(url, body.encode(), content_type, accept=content_type)
    assert (reply.status, reply.content_type) == (200, hosting.response_content_type(content_type))
    assert reply.body.count(b"predicted_label") == (0 if content_type == CSV else 3)
    assert len(reply.body.decode().strip().splitlines()) == {CSV: 3, JSON: 1, JSONL: 3}[content_type]


@pytest.mark.parametrize("accept", [None, "*/*"])
def test_no_accept_preference_is_answered_in_json(url: str, rows_csv: bytes, accept: str | None) -> None:
    # the model's SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, as the deployed container answers
    reply = invoke(url, rows_csv, CSV, accept=accept)
    assert (reply.status, reply.content_type) == (200, JSON)
    assert len(json.loads(reply.body)["predictions"]) == 50


def test_answers_match_the_handlers_run_in_process(url: str, model_dir: Path, rows_csv: bytes) -> None:
    model = inference.model_fn(str(model_dir))
    expected = inference.output_fn(inference.predict_fn(inference.input_fn(rows_csv, CSV), model), JSON)[0]
    assert invoke(url, rows_csv, CSV, accept=JSON).body == expected


@pytest.mark.parametrize(
    ("body", "content_type", "accept", "status", "message"),
    [
        (b"1,2", "application/xml", None, 415, b"unsupported Content-Type 'application/xml'"),
        (b"1,2", "", None, 400, b"malformed JSON body"),  # no Content-Type reads as JSON, as the toolkit
        (b"1,2", CSV, "application/xml", 400, b"row 0 has 2 values"),  # the row fails before the Accept
        (b"", CSV, None, 400, b"empty body"),
        (b'{"instances": [[1,', JSON, None, 400, b"malformed JSON body at line 1"),
        (b'{"bogus": 1}', JSON, None, 400, b"unknown features ['bogus']"),
        (b"\xff\xfe", CSV, None, 400, b"row 0 has 1 values"),  # text types decode with U+FFFD
        (b"\xff\xfe", "text/csv; charset=utf-8", None, 400, b"not valid UTF-8"),  # others stay bytes
    ],
)
def test_bad_payload_gets_a_4xx_naming_the_problem(
    url: str, body: bytes, content_type: str, accept: str | None, status: int, message: bytes
) -> None:
    reply = invoke(url, body, content_type, accept=accept)
    assert reply.status == status
    assert message in reply.body
    assert reply.content_type.startswith("text/plain")


def test_unsupported_accept_is_406(url: str, rows_csv: bytes) -> None:
    reply = invoke(url, rows_csv, CSV, accept="application/xml")
    assert reply.status == 406
    assert b"supported: text/csv" in reply.body


def test_unknown_route_and_wrong_method(url: str) -> None:
    assert request(url, "GET", "/nope").status == 404
    assert request(url, "GET", "/invocations").status == 405


def test_body_over_6_mb_is_413_from_its_content_length(url: str) -> None:
    reply = invoke(url, b"1" * (contract.MAX_PAYLOAD_BYTES + 1), CSV)
    assert reply.status == 413
    assert b"6 MB" in reply.body


@pytest.mark.parametrize("size_mb", [7, 20])
def test_413_reaches_a_standard_library_client_that_sends_everything_first(url: str, size_mb: int) -> None:
    # urllib writes the whole body before reading, and asks for Connection: close: a server that
    # answered early and closed with the body unread would reset the connection under it.
    request_ = urllib.request.Request(
        f"{url}/invocations", data=b"1" * (size_mb * 1024 * 1024), headers={"Content-Type": CSV}
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request_, timeout=30)
    assert caught.value.code == 413
    assert b"6 MB" in caught.value.read()


def test_chunked_body_over_6_mb_is_413(url: str) -> None:
    chunk = b"1,2,3\n" * 100_000  # 600 kB per chunk, no Content-Length announced
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request("POST", "/invocations", body=iter([chunk] * 12), headers={"Content-Type": CSV})
        reply = connection.getresponse()
        assert reply.status == 413
        assert b"more than" in reply.read()
    except (BrokenPipeError, ConnectionResetError):
        pytest.fail("the server dropped the connection instead of answering 413")
    finally:
        connection.close()


def test_200_concurrent_requests_from_16_threads_are_all_correct(url: str, rows_csv: bytes) -> None:
    # GIVEN the answer for each of 8 different batch sizes
    lines = rows_csv.decode().splitlines(keepends=True)
    bodies = ["".join(lines[: n + 1]).encode() for n in range(8)]
    expected = [invoke(url, b, CSV).body for b in bodies]
    # WHEN 200 requests for them race from 16 threads
    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(lambda i: invoke(url, bodies[i % 8], CSV), range(200)))
    # THEN every one is answered, with its own batch's predictions
    assert [r.status for r in replies] == [200] * 200
    assert all(r.body == expected[i % 8] for i, r in enumerate(replies))


def test_server_still_answers_after_a_burst_of_bad_requests(url: str, rows_csv: bytes) -> None:
    bad = [(b"x", "text/xml"), (b"{", JSON), (b"\x00" * 100, CSV), (b"[[[[", JSONL)] * 25
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda b: invoke(url, b[0], b[1]).status, bad))
    assert set(statuses) <= {400, 415}
    assert invoke(url, rows_csv, CSV).status == 200


def test_unexpected_error_is_a_generic_500_and_the_server_survives(
    url: str, rows_csv: bytes, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(data: object, model: object) -> object:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(inference, "predict_fn", broken)
    reply = invoke(url, rows_csv, CSV)
    assert reply.status == 500
    assert b"secret" not in reply.body
    assert b"see the endpoint's log" in reply.body
    assert "secret internal detail" in caplog.text  # the traceback is logged
    monkeypatch.undo()
    assert invoke(url, rows_csv, CSV).status == 200


def test_slow_prediction_is_a_504(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEMAKER_MODEL_SERVER_TIMEOUT", "0.2")
    slow = InvocationsApp.handle

    def handle(self: InvocationsApp, *args: str) -> tuple[bytes, str]:
        time.sleep(1)
        return slow(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(InvocationsApp, "handle", handle)
    body = raw_rows("binary", 10).to_csv(index=False, header=False).encode() * (INLINE_BODY_BYTES // 500)
    with serve_in_thread(model_dir) as base_url:
        reply = invoke(base_url, body, CSV)
    assert reply.status == 504
    assert b"longer than 0.2 s" in reply.body


def test_model_tar_gz_served_by_worker_processes(model_dir: Path, tmp_path: Path, rows_csv: bytes) -> None:
    archive = tar_model(model_dir, tmp_path / "model.tar.gz")
    with serve_subprocess(archive, workers=2) as base_url:
        assert request(base_url, "GET", "/ping").status == 200
        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda _: invoke(base_url, rows_csv, CSV), range(40)))
    assert {r.status for r in replies} == {200}
    assert len({r.body for r in replies}) == 1


def test_cli_reports_a_bad_model_path(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="exited"), serve_subprocess(tmp_path / "missing.tar.gz"):
        pass


def test_cli_honours_sagemaker_env_and_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEMAKER_BIND_TO_PORT", "9090")
    monkeypatch.setenv("SAGEMAKER_MODEL_SERVER_WORKERS", "3")
    from_env = parse_args(["--model", "m"])
    flags = parse_args(["--model", "m", "--port", "8081", "--workers", "1"])
    assert (from_env.port, from_env.workers) == (9090, 3)
    assert (flags.port, flags.workers) == (8081, 1)
    monkeypatch.delenv("SAGEMAKER_BIND_TO_PORT")
    assert parse_args(["--model", "m"]).port == contract.SERVING_PORT
