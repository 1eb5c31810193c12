"""The MLflow REST calls the Track step makes (``/api/2.0/mlflow/...``), over stdlib urllib.

:class:`MlflowRest` sends one JSON request (signed when it has a signer, always naming the tracking
server in ``x-mlflow-sm-tracking-server-arn``) and answers the response's JSON. Timeouts, connection
errors, 429 and 5xx are retried a few times; every failure ends as one :class:`TrackingError` whose
message names the call, the HTTP status and MLflow's ``error_code`` and ``message``.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol
from urllib.parse import quote, urlencode

from ml_code.tracking.sigv4 import ARN_HEADER

LOG = logging.getLogger(__name__)
API: Final = "/api/2.0/mlflow/"
#: Statuses worth another try (the server is busy or restarting), not 4xx: those will not change.
_RETRY_STATUSES: Final = frozenset({429, 500, 502, 503, 504})
#: How much of a non-JSON error body a message quotes.
_BODY_CHARS: Final = 300


class TrackingError(RuntimeError):
    """A call to the tracking server failed; the message says which call, and the server's answer."""


class Signer(Protocol):
    def sign(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]: ...


#: What opens a request: urllib's ``urlopen`` (tests pass their own to look at the request).
Opener = Callable[..., Any]


def _reason(status: int, body: bytes) -> str:
    """``HTTP <status> <error_code>: <message>`` from MLflow's error JSON, else the body's start."""
    try:
        error = json.loads(body)
        return f"HTTP {status} {error['error_code']}: {error.get('message', '')}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {status}: {body[:_BODY_CHARS].decode('utf-8', 'replace').strip()}"


class MlflowRest:
    """One tracking server: its base URL, its ARN and how requests are signed."""

    def __init__(
        self,
        base_url: str,
        server_arn: str,
        signer: Signer | None = None,
        *,
        opener: Opener = urllib.request.urlopen,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 1.0,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise TrackingError(f"the tracking server URL {base_url!r} is not http:// or https://")
        self.base_url = base_url.rstrip("/")
        self._arn, self._signer, self._open = server_arn, signer, opener
        self._timeout, self._retries, self._backoff = timeout, retries, backoff

    def call(
        self, method: str, endpoint: str, body: Mapping[str, Any] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """``method`` on ``/api/2.0/mlflow/<endpoint>``; the answer's JSON object.

        Raises:
            TrackingError: the server is unreachable, answered an error, or not JSON.
        """
        url = f"{self.base_url}{API}{endpoint}"
        if query:
            url += "?" + urlencode(query, quote_via=quote)
        data = json.dumps(body).encode("utf-8") if body is not None else b""
        raw = self.send(method, url, data, {"Content-Type": "application/json"}, f"MLflow {endpoint}")
        try:
            answer = json.loads(raw or b"{}")
        except ValueError as exc:
            raise TrackingError(f"MLflow {endpoint} at {self.base_url}: the answer is not JSON") from exc
        if not isinstance(answer, dict):
            raise TrackingError(f"MLflow {endpoint} at {self.base_url}: the answer is not a JSON object")
        return answer

    def send(self, method: str, url: str, data: bytes, headers: Mapping[str, str], what: str) -> bytes:
        """Send one request (retrying what may pass); the response body. Raises TrackingError."""
        attempt = 0
        while True:
            try:
                return self._send_once(method, url, data, headers, what)
            except _TransientError as exc:
                attempt += 1
                if attempt > self._retries:
                    raise TrackingError(f"{exc} (gave up after {attempt} attempts)") from exc
                LOG.warning("%s; trying again (%d of %d)", exc, attempt, self._retries)
                time.sleep(self._backoff * 2 ** (attempt - 1))

    def _send_once(self, method: str, url: str, data: bytes, headers: Mapping[str, str], what: str) -> bytes:
        sent = {**headers, ARN_HEADER: self._arn}
        if self._signer is not None:
            sent = self._signer.sign(method, url, data, sent)
        # S310: the URL is the server's http(s) base (checked in __init__) plus our own path
        request = urllib.request.Request(url, data=data or None, headers=sent, method=method)  # noqa: S310
        try:
            with self._open(request, timeout=self._timeout) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            reason = f"{what} at {self.base_url}: {_reason(exc.code, exc.read())}"
            if exc.code in _RETRY_STATUSES:
                raise _TransientError(reason) from exc
            raise TrackingError(reason) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise _TransientError(f"{what} at {self.base_url}: cannot reach the server ({cause})") from exc


class _TransientError(Exception):
    """A failure another attempt may not have (the message is the TrackingError's, if it stays)."""
