"""Time the serving handlers in-process: ``inference.respond`` and its steps, per request body.

    <python> -m benchmarks.handler_time --model DIR --rows FILE [--sizes 1 1000] [--code DIR]

Prints one JSON object: for each size, the median microseconds of ``respond`` (the whole
handler as ``transform_fn`` and ``make serve`` run it) and of its steps as the code runs them:

- ``decode``: ``input_fn`` (content type, text; JSON parsed; CSV read into rows by csv.reader
  in versions before 9039ee2, kept as text since);
- ``transform``: what ``predict_fn`` does before predicting: the column-wise CSV reader where it
  applies, else (csv.reader and) transform_rows;
- ``predict``: the booster on that matrix;
- ``encode``: ``output_fn`` for the Accept type.

``--code DIR`` imports ``ml_code`` from DIR first (e.g. an older checkout, for before/after
figures); older versions without a step's fast path are timed through what they had. Runs
under any Python the project supports, including the contract tier's 3.10.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any


def median_us(call: Callable[[], Any], seconds: float) -> float:
    """Median wall time of ``call`` in microseconds, over as many calls as fit in ``seconds``."""
    for _ in range(20):
        call()
    samples = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples) < 50:
        start = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1e3


def steps(
    model: Any, inference: Any, body: str, content_type: str, accept: str
) -> dict[str, Callable[[], Any]]:
    payload = inference.input_fn(body, content_type)
    lazy_rows = getattr(payload, "text", None) is not None  # CSV rows read on demand (since 9039ee2)

    def transform() -> Any:
        """What predict_fn does before predicting; CSV rows parsed in input_fn are not counted."""
        if not lazy_rows:
            return model.batch.transform_rows(payload.rows)
        fast = model.batch.transform_csv(body)
        if fast is not None:
            return fast
        return model.batch.transform_rows(inference.input_fn(body, content_type).rows)

    matrix = transform()
    predict = getattr(model, "predict", None) or model.booster.inplace_predict
    prediction = inference.predict_fn(payload, model)
    return {
        "respond": lambda: inference.respond(model, body, content_type, accept),
        "decode": lambda: inference.input_fn(body, content_type),
        "transform": transform,
        "predict": lambda: predict(matrix),
        "encode": lambda: inference.output_fn(prediction, accept),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model dir (booster + transformer)")
    parser.add_argument("--rows", required=True, help="header-less CSV file of raw rows")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 1000])
    parser.add_argument("--accept", default="text/csv")
    parser.add_argument("--seconds", type=float, default=1.0, help="per step and size")
    parser.add_argument("--code", help="import ml_code from this folder")
    args = parser.parse_args(argv)
    if args.code:
        sys.path.insert(0, args.code)
    from ml_code.serving import inference  # noqa: PLC0415 - after --code

    model = inference.model_fn(args.model)
    with open(args.rows, encoding="utf-8") as handle:
        lines = handle.read().splitlines(keepends=True)
    result: dict[str, Any] = {"python": sys.version.split()[0]}
    for size in args.sizes:
        body = "".join(lines[:size])  # text, as the toolkit hands a text/csv body to transform_fn
        reply = inference.respond(model, body, "text/csv", args.accept)
        if reply.status != 200:
            raise SystemExit(f"{size} rows: status {reply.status}: {reply.body[:200]!r}")
        timed = steps(model, inference, body, "text/csv", args.accept)
        result[str(size)] = {name: round(median_us(call, args.seconds), 1) for name, call in timed.items()}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
