"""A shadow variant on the local server: production answers, the shadow model sees a copy.

An endpoint with ``ShadowProductionVariants`` answers every request from its production variant
and replicates a sampled share of them to the shadow variant, whose answers are captured but
never returned. :class:`ShadowApp` does the same offline: the production model answers as the
plain :class:`ml_code.serving.app.InvocationsApp` would; after the answer is sent, the request
goes to the shadow model on a thread of its own (the caller never waits for it). With data
capture, each variant's pairs land under its own variant folder
(``<dir>/<endpoint>/AllTraffic/...`` and ``<dir>/<endpoint>/Shadow/...``), each record with its
own ``eventId``: SageMaker's documentation does not say that the two records of one request share
one, so the comparison (``release.shadow_report``) pairs them by identical input and nearest time.
Each variant's model latency (the handlers' time, what CloudWatch's ``ModelLatency`` measures) is
recorded in milliseconds (:attr:`ShadowApp.latencies_ms`).
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final

from ml_code.serving import inference
from ml_code.serving.app import InvocationsApp
from ml_code.serving.capture import VARIANT, CaptureWriter
from ml_code.serving.uvicorn_app import running_in_thread

#: The shadow variant's name (the endpoint config's ``ShadowProductionVariants[0].VariantName``).
SHADOW_VARIANT: Final = "Shadow"
PRODUCTION_VARIANT: Final = VARIANT


class ShadowApp(InvocationsApp):
    """:class:`InvocationsApp` answering from ``model`` and replicating to ``shadow_model``.

    ``sampling_percent`` of the answered requests (status 200) go to the shadow, like the shadow
    variant's traffic sampling; ``capture`` and ``shadow_capture`` record each variant's pairs.
    Raises ValueError for a percent outside [0, 100].
    """

    def __init__(
        self,
        model: inference.Model,
        shadow_model: inference.Model,
        *,
        sampling_percent: float = 100.0,
        capture: CaptureWriter | None = None,
        shadow_capture: CaptureWriter | None = None,
        seed: int | None = None,
        timeout_seconds: float = 60.0,
    ) -> None:
        if not 0 <= sampling_percent <= 100:
            raise ValueError(f"shadow sampling percent must be in [0, 100], got {sampling_percent}")
        super().__init__(model, timeout_seconds=timeout_seconds, capture=capture)
        self.shadow_model = shadow_model
        self.shadow_capture = shadow_capture
        self.sampling_percent = sampling_percent
        #: Model latency in ms per variant, in arrival order.
        self.latencies_ms: dict[str, list[float]] = {PRODUCTION_VARIANT: [], SHADOW_VARIANT: []}
        self._random = random.Random(seed)  # noqa: S311 - sampling traffic, not security
        self._shadow_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shadow")
        self._lock = threading.Lock()
        self.shadowed = 0

    def handle(self, body: bytes | str, content_type: str, accept: str) -> inference.Reply:
        """Production's answer (timed); a sampled 200 is then replicated to the shadow."""
        started = time.perf_counter()
        reply = super().handle(body, content_type, accept)
        self._record(PRODUCTION_VARIANT, started)
        if reply.status == 200 and self._sampled():
            self._shadow_pool.submit(self._shadow, body, content_type, accept)
        return reply

    def _sampled(self) -> bool:
        with self._lock:
            return self.sampling_percent >= 100 or self._random.random() * 100 < self.sampling_percent

    def _shadow(self, body: bytes | str, content_type: str, accept: str) -> None:
        started = time.perf_counter()
        reply = inference.respond(self.shadow_model, body, content_type, accept)
        self._record(SHADOW_VARIANT, started)
        with self._lock:
            self.shadowed += 1
        if self.shadow_capture is not None and reply.status == 200:
            raw = body.encode("utf-8") if isinstance(body, str) else body
            self.shadow_capture.write(raw, content_type, reply.body, reply.content_type)

    def _record(self, variant: str, started: float) -> None:
        self.latencies_ms[variant].append((time.perf_counter() - started) * 1000)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every replicated request has been answered by the shadow and captured."""
        self._shadow_pool.submit(lambda: None).result(timeout)
        for writer in (self.capture, self.shadow_capture):
            if writer is not None:
                writer.flush(timeout)

    def write_latencies(self, path: Path) -> None:
        """Write :attr:`latencies_ms` as JSON (``{variant: [ms, ...]}``), what the report reads offline."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.latencies_ms, sort_keys=True), encoding="utf-8")

    def close(self) -> None:
        """Finish the shadow's queue, then close both capture writers."""
        self._shadow_pool.shutdown(wait=True)
        for writer in (self.capture, self.shadow_capture):
            if writer is not None:
                writer.close()
        super().close()


def shadow_app(
    model_dir: Path,
    shadow_dir: Path,
    *,
    sampling_percent: float = 100.0,
    capture_dir: Path | None = None,
    endpoint_name: str = "local",
    capture_percent: float = 100.0,
) -> ShadowApp:
    """Both models loaded with ``model_fn``; with ``capture_dir``, a writer per variant."""
    capture = shadow_capture = None
    if capture_dir is not None:
        capture = CaptureWriter(capture_dir, endpoint_name, sampling_percent=capture_percent)
        shadow_capture = CaptureWriter(
            capture_dir, endpoint_name, sampling_percent=capture_percent, variant=SHADOW_VARIANT
        )
    return ShadowApp(
        inference.model_fn(str(model_dir)),
        inference.model_fn(str(shadow_dir)),
        sampling_percent=sampling_percent,
        capture=capture,
        shadow_capture=shadow_capture,
    )


@contextlib.contextmanager
def serve_with_shadow(
    model: str | Path,
    shadow: str | Path,
    *,
    sampling_percent: float = 100.0,
    capture_dir: Path | None = None,
    endpoint_name: str = "local",
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[tuple[str, ShadowApp]]:
    """Serve ``model`` with ``shadow`` as its shadow variant from a thread; yields (URL, app)."""
    from ml_code.serving.serve import model_directory  # noqa: PLC0415 - serve imports us

    with model_directory(model) as model_dir, model_directory(shadow) as shadow_dir:
        app = shadow_app(model_dir, shadow_dir, sampling_percent=sampling_percent,
                         capture_dir=capture_dir, endpoint_name=endpoint_name)  # fmt: skip
        try:
            with running_in_thread(app, host, port) as url:
                yield url, app
        finally:
            app.close()
