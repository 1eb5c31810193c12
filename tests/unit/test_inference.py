"""The serving handlers: every content type, single rows and batches, output per problem
type, and each bad input answered with a PayloadError naming the problem and its status."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from serving_models import build_model, raw_rows

from ml_code import contract
from ml_code.errors import PayloadError
from ml_code.serving import inference

CSV, JSON, JSONL = contract.CONTENT_TYPE_CSV, contract.CONTENT_TYPE_JSON, contract.CONTENT_TYPE_JSONLINES


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, inference.Model]:
    return {
        problem: inference.model_fn(str(build_model(tmp_path_factory.mktemp(problem), problem)))
        for problem in contract.PROBLEM_TYPES
    }


def run(
    model: inference.Model, body: bytes | str, content_type: str, accept: str | None = None
) -> tuple[str, str]:
    """The handlers in a row; the answer in the request's own format unless ``accept`` says."""
    out, out_type = inference.output_fn(
        inference.predict_fn(inference.input_fn(body, content_type), model),
        content_type if accept is None else accept,
    )
    return out.decode(), out_type


def csv_body(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, header=False)


def json_rows(frame: pd.DataFrame) -> list[dict[str, object]]:
    return json.loads(frame.to_json(orient="records"))


def test_binary_csv_single_row_gives_label_and_probability(models: dict[str, inference.Model]) -> None:
    out, out_type = run(models["binary"], csv_body(raw_rows("binary", 1)), CSV)
    label, probability = out.strip().split(",")
    assert out_type == CSV
    assert 0.0 <= float(probability) <= 1.0
    assert int(label) == (float(probability) >= 0.5)


def test_every_request_shape_gives_the_same_predictions(models: dict[str, inference.Model]) -> None:
    # GIVEN the same 5 raw rows in each supported request shape
    frame = raw_rows("binary", 5)
    objects = json_rows(frame)
    lists = [list(r.values()) for r in objects]
    shapes = {
        "csv": (csv_body(frame), CSV),
        "csv with header": (frame.to_csv(index=False), CSV),
        "instances of lists": (json.dumps({"instances": lists}), JSON),
        "instances of objects": (json.dumps({"instances": objects}), JSON),
        "bare list of rows": (json.dumps(lists), JSON),
        "jsonlines lists": ("\n".join(json.dumps(r) for r in lists), JSONL),
        "jsonlines objects": ("\n".join(json.dumps(r) for r in objects) + "\n\n", JSONL),
    }
    # WHEN each is predicted, answering JSON
    answers = {name: json.loads(run(models["binary"], b, t, JSON)[0]) for name, (b, t) in shapes.items()}
    # THEN all agree, one record per row
    assert all(len(a["predictions"]) == 5 for a in answers.values())
    assert len({json.dumps(a) for a in answers.values()}) == 1


@pytest.mark.parametrize("single", ["list", "object"])
def test_json_single_row(models: dict[str, inference.Model], single: str) -> None:
    row = json_rows(raw_rows("binary", 1))[0]
    body = json.dumps(list(row.values()) if single == "list" else row)
    out, _ = run(models["binary"], body, JSON)
    assert len(json.loads(out)["predictions"]) == 1


def test_missing_values_are_imputed(models: dict[str, inference.Model]) -> None:
    names = models["binary"].transformer.feature_names
    out, _ = run(models["binary"], json.dumps({"instances": [dict.fromkeys(names)]}), JSON)
    assert json.loads(out)["predictions"][0]["predicted_label"] in (0, 1)


def test_multiclass_gives_label_and_probabilities_by_label(models: dict[str, inference.Model]) -> None:
    labels = models["multiclass"].transformer.labels
    frame = raw_rows("multiclass", 40)
    records = json.loads(run(models["multiclass"], csv_body(frame), CSV, JSON)[0])["predictions"]
    csv_lines = run(models["multiclass"], csv_body(frame), CSV)[0].splitlines()
    assert labels == ["Month-to-month", "One year", "Two year"]
    for record, line in zip(records, csv_lines, strict=True):
        probabilities = record["probabilities"]
        assert list(probabilities) == labels
        assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert record["predicted_label"] == max(probabilities, key=probabilities.get)
        assert line.split(",") == [record["predicted_label"], *map(str, probabilities.values())]


def test_regression_gives_scores_in_every_format(models: dict[str, inference.Model]) -> None:
    body = csv_body(raw_rows("regression", 3))
    csv_scores = [float(v) for v in run(models["regression"], body, CSV)[0].split()]
    json_scores = [
        r["score"] for r in json.loads(run(models["regression"], body, CSV, JSON)[0])["predictions"]
    ]
    lines = run(models["regression"], body, CSV, JSONL)[0].splitlines()
    assert csv_scores == json_scores == [json.loads(line)["score"] for line in lines]
    assert all(10 < s < 150 for s in csv_scores)  # monthly charges, not class probabilities


@pytest.mark.parametrize(
    ("accept", "request_type", "expected"),
    [
        ("", JSONL, JSON),  # no preference: the model's default (application/json)
        ("*/*", CSV, JSON),
        ("*/*;q=0.8", CSV, JSON),
        ("application/json; q=0.5, text/csv", JSON, CSV),
        ("application/xml, application/jsonlines", CSV, JSONL),
        ("text/*", JSON, CSV),
        ("application/*", CSV, JSON),
        ("application/jsonlines", CSV, JSONL),
    ],
)
def test_accept_negotiation(
    models: dict[str, inference.Model], accept: str, request_type: str, expected: str
) -> None:
    rows = json_rows(raw_rows("binary", 1))
    body = csv_body(raw_rows("binary", 1)) if request_type == CSV else json.dumps(rows[0])
    assert run(models["binary"], body, request_type, accept)[1] == expected


FIRST = "52,46.7,2357.69,34.0,3,3,One year,Electronic check,DSL,north"
BAD = [
    ("unsupported type", FIRST, "application/xml", 415, "unsupported Content-Type 'application/xml'"),
    ("empty", "", CSV, 400, "empty body"),
    ("blank lines", "\n \n", CSV, 400, "empty body"),
    ("bad utf-8", b"\xff\xfe1,2", CSV, 400, "not valid UTF-8"),
    ("malformed json", '{"instances": [[1, 2', JSON, 400, "JSON body at line 1 column 21 (char 20)"),
    ("json scalar", "42", JSON, 400, "got int"),
    ("empty instances", '{"instances": []}', JSON, 400, '"instances" is empty'),
    ("nested value", '[[1, [2]]]', JSON, 400, "row 0 (element 0), column 1: expected a scalar"),
    ("huge integer", "[" + "9" * 400 + "]", JSON, 400, "too large"),
    ("bad jsonl line", '[1]\n{"a": ', JSONL, 400, "malformed JSON on line 2"),
    ("too few columns", "1,2,3", CSV, 400, "row 0 has 3 values; expected 10"),
    ("ragged second row", f"{FIRST}\n1,2", CSV, 400, "row 1 has 2 values"),
    ("non-numeric", FIRST.replace("52", "fifty-two", 1), CSV, 400, "row 0, column 'tenure_months'"),
    ("infinite", FIRST.replace("52", "inf", 1), CSV, 400, "not a finite number"),
    ("header only", "tenure_months,monthly_charges,total_charges,age,support_calls,num_products,"
     "contract,payment_method,internet_service,region", CSV, 400, "only a header"),
    ("unknown and missing keys", '{"bogus": 1}', JSON, 400, "unknown features ['bogus'], missing features"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_input_names_the_problem(
    models: dict[str, inference.Model], body: str | bytes, content_type: str, status: int, message: str
) -> None:
    with pytest.raises(PayloadError) as caught:
        run(models["binary"], body, content_type)
    assert caught.value.status == status
    assert message in str(caught.value)


def test_bad_row_is_named_in_a_large_batch(models: dict[str, inference.Model]) -> None:
    # the column-wise path hands unusual batches back to transform_rows, which names the cell
    lines = csv_body(raw_rows("binary", 100)).splitlines()
    lines[73] = lines[73].replace(lines[73].split(",")[1], "n/a", 1)
    with pytest.raises(PayloadError, match=r"row 73, column 'monthly_charges'"):
        run(models["binary"], "\n".join(lines), CSV)


def test_unsupported_accept_is_406(models: dict[str, inference.Model]) -> None:
    prediction = inference.predict_fn(inference.input_fn(FIRST, CSV), models["binary"])
    with pytest.raises(PayloadError, match="cannot produce Accept 'application/xml'") as caught:
        inference.output_fn(prediction, "application/xml")
    assert caught.value.status == 406


def test_model_fn_names_a_missing_artefact(tmp_path: Path) -> None:
    (tmp_path / contract.MODEL_FILE).write_text("{}")
    with pytest.raises(FileNotFoundError, match=contract.TRANSFORMER_FILE):
        inference.model_fn(str(tmp_path))


def test_model_fn_rejects_a_transformer_from_another_run(tmp_path: Path) -> None:
    binary = build_model(tmp_path / "a", "binary")
    other = build_model(tmp_path / "b", "multiclass")  # fewer transformer columns (no contract one-hot)
    (binary / contract.TRANSFORMER_FILE).write_text((other / contract.TRANSFORMER_FILE).read_text())
    with pytest.raises(ValueError, match="from different runs"):
        inference.model_fn(str(binary))


def test_batch_path_matches_transform_rows(models: dict[str, inference.Model]) -> None:
    model = models["binary"]
    rows = inference.input_fn(csv_body(raw_rows("binary", 200)), CSV).rows
    fast = model.batch.transform_rows(rows)
    assert np.array_equal(fast, model.transformer.transform_rows(rows))


def test_the_default_response_type_follows_the_models_environment(
    models: dict[str, inference.Model], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a model whose environment names CSV as the default response type
    monkeypatch.setenv(contract.DEFAULT_ACCEPT_ENV, CSV)
    body = csv_body(raw_rows("binary", 1))
    # THEN a request that leaves the choice open gets CSV, and an explicit Accept still wins
    assert run(models["binary"], body, CSV, "")[1] == CSV
    assert run(models["binary"], body, CSV, "application/*")[1] == JSON
    assert run(models["binary"], body, CSV, JSON)[1] == JSON


def test_respond_answers_every_outcome_instead_of_raising(models: dict[str, inference.Model]) -> None:
    good = csv_body(raw_rows("binary", 2))
    ok = inference.respond(models["binary"], good, CSV, CSV)
    assert (ok.status, ok.content_type) == (200, "text/csv; charset=utf-8")
    assert len(ok.body.decode().splitlines()) == 2
    as_json = inference.respond(models["binary"], good, CSV, JSON)
    assert (as_json.status, as_json.content_type) == (200, JSON)
    bad = inference.respond(models["binary"], "1,2,3\n", CSV, CSV)
    assert (bad.status, bad.content_type) == (400, contract.CONTENT_TYPE_ERROR)
    assert b"row 0" in bad.body
    wrong_type = inference.respond(models["binary"], good, "text/plain", CSV)
    assert wrong_type.status == 415
    wrong_accept = inference.respond(models["binary"], good, CSV, "image/png")
    assert wrong_accept.status == 406


def test_respond_turns_an_unexpected_error_into_a_generic_500(
    models: dict[str, inference.Model], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_data: object, _model: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(inference, "predict_fn", broken)
    reply = inference.respond(models["binary"], csv_body(raw_rows("binary", 1)), CSV, CSV)
    assert (reply.status, reply.content_type) == (500, contract.CONTENT_TYPE_ERROR)
    assert b"secret" not in reply.body  # the reason goes to the log, not to the client
    assert "secret internal detail" in caplog.text


def test_the_serving_entry_point_offers_the_toolkit_only_model_fn_and_transform_fn() -> None:
    # The toolkit refuses transform_fn beside input_fn/predict_fn/output_fn, and would turn an
    # exception raised by any of them into a bare 500; the generated entry point exposes two names.
    namespace: dict[str, object] = {}
    exec(compile(contract.SERVING_SHIM_SOURCE, contract.SERVING_PROGRAM, "exec"), namespace)
    public = {name for name in namespace if not name.startswith("__")}
    assert public == {"model_fn", "transform_fn"}
    assert namespace["transform_fn"] is inference.transform_fn
