"""Exceptions with a meaning on the SageMaker contract.

Serving handlers raise :class:`PayloadError` subclasses for bad requests; the model
server turns them into the matching 4xx status with the message as the body. Steps
raise :class:`DataValidationError` for bad input data; their ``main()`` writes the
message to SageMaker's failure file and exits non-zero.
"""

from __future__ import annotations


class PayloadError(ValueError):
    """The request is malformed; the message names the problem (HTTP 400)."""

    status: int = 400


class UnsupportedContentTypeError(PayloadError):
    """The request's Content-Type is not one the model accepts (HTTP 415)."""

    status = 415


class UnsupportedAcceptError(PayloadError):
    """The Accept header asks for a type the model cannot produce (HTTP 406)."""

    status = 406


class PayloadTooLargeError(PayloadError):
    """The body exceeds SageMaker's 6 MB real-time payload limit (HTTP 413)."""

    status = 413


class DataValidationError(ValueError):
    """Input data for a step is unusable; the message says which file and why."""
