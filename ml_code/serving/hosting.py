"""What the XGBoost container's serving toolkit does to a request before ``transform_fn`` runs.

The deployed endpoint serves ``ml_code.serving.inference`` through sagemaker-containers 2.8.6.post2
(the image's toolkit: its ``_worker.Request`` and ``_transformer.Transformer``). ``make serve``
applies the same rules here, so both worlds hand the handlers the same arguments and answer
the same request with the same status, content type and body (tests/contract checks it):

- Content-Type: the ``ContentType`` header (some AWS services send it), else ``Content-Type``,
  else ``application/json``; passed on whole (parameters included).
- Accept: the header, unless it is missing, empty or exactly ``*/*``: then the model's
  ``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`` (``application/json`` when unset).
- Body: text when the Content-Type is exactly ``application/json`` or ``text/csv``, decoded as
  UTF-8 with invalid bytes replaced by U+FFFD (werkzeug's ``get_data(as_text=True)``); bytes
  otherwise.
- Response Content-Type: the media type, plus ``; charset=utf-8`` for ``text/*`` (werkzeug's
  rule for a Flask response's mimetype).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

from ml_code.contract import CONTENT_TYPE_CSV, CONTENT_TYPE_JSON, DEFAULT_ACCEPT, DEFAULT_ACCEPT_ENV

#: Content types the toolkit hands over as text (sagemaker_containers._content_types.UTF8_TYPES).
TEXT_CONTENT_TYPES: Final = frozenset({CONTENT_TYPE_JSON, CONTENT_TYPE_CSV})
ANY: Final = "*/*"


def default_accept() -> str:
    """The model's default response type (its environment, else the toolkit's JSON)."""
    return os.environ.get(DEFAULT_ACCEPT_ENV) or DEFAULT_ACCEPT


def request_content_type(headers: Mapping[str, str]) -> str:
    """The request's content type as the toolkit reads it; ``headers`` keys are lower case."""
    return headers.get("contenttype") or headers.get("content-type") or CONTENT_TYPE_JSON


def request_accept(headers: Mapping[str, str], default: str) -> str:
    """The Accept the handlers see: the header, or ``default`` for none, empty or ``*/*``."""
    accept = headers.get("accept")
    return default if not accept or accept == ANY else accept


def request_body(raw: bytes, content_type: str) -> bytes | str:
    """The body as the toolkit hands it to ``transform_fn`` (text for exact JSON/CSV types)."""
    if content_type in TEXT_CONTENT_TYPES:
        return raw.decode("utf-8", "replace")
    return raw


def response_content_type(media_type: str) -> str:
    """The Content-Type header a Flask response with this mimetype carries."""
    return f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type
