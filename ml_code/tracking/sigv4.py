"""Reaching a SageMaker managed MLflow tracking server: its URL and the SigV4 signature.

The scheme is the SageMaker MLflow plugin's (``sagemaker_mlflow.auth.AuthBoto`` and
``mlflow_sagemaker_request_header_provider``): ``https://<region>.experiments.sagemaker.aws``,
every request signed for service ``sagemaker-mlflow`` with ``X-Amz-Content-SHA256`` set, and the
server named by header ``x-mlflow-sm-tracking-server-arn``. botocore only (1.20.52 in the image).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Final

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from ml_code.errors import DataValidationError
from ml_code.tracking.arns import sagemaker_arn

SERVICE: Final = "sagemaker-mlflow"
ARN_HEADER: Final = "x-mlflow-sm-tracking-server-arn"
#: DNS suffix of the experiments endpoint per partition (the plugin knows these two).
_DNS_SUFFIX: Final = {"aws": "aws", "aws-us-gov": "aws"}


@dataclass(frozen=True)
class ServerArn:
    """``arn:<partition>:sagemaker:<region>:<account>:mlflow-tracking-server/<name>``."""

    arn: str
    partition: str
    region: str

    @classmethod
    def parse(cls, arn: str) -> ServerArn:
        """Raises DataValidationError for anything but a tracking server ARN in a known partition."""
        found = sagemaker_arn(arn, "mlflow-tracking-server", 1)
        if found is None:
            raise DataValidationError(
                f"--tracking-server-arn {arn!r} is not an MLflow tracking server ARN "
                "(arn:aws:sagemaker:<region>:<account>:mlflow-tracking-server/<name>)"
            )
        if found.partition not in _DNS_SUFFIX:
            raise DataValidationError(
                f"partition {found.partition!r} of {arn!r} has no SageMaker MLflow endpoint"
            )
        return cls(arn, found.partition, found.region)

    @property
    def url(self) -> str:
        """The tracking server's base URL (through the VPC's experiments endpoint, when it has one)."""
        return f"https://{self.region}.experiments.sagemaker.{_DNS_SUFFIX[self.partition]}"


class SigV4Signer:
    """Signs requests for the ``sagemaker-mlflow`` service with the job's AWS credentials."""

    def __init__(self, region: str, credentials: Any = None) -> None:
        """``credentials`` default to botocore's chain (a job's role, through the container's
        credentials endpoint). Raises DataValidationError when there are none."""
        credentials = credentials or botocore.session.get_session().get_credentials()
        if credentials is None:
            raise DataValidationError("no AWS credentials to sign the MLflow requests with")
        self._auth = SigV4Auth(credentials, SERVICE, region)

    def sign(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        """``headers`` plus the signature's (Authorization, X-Amz-Date, security token, payload hash)."""
        # the URL is signed as sent: the client encodes a query's spaces as %20, never '+'
        request = AWSRequest(
            method=method,
            url=url,
            data=body,
            headers={**headers, "X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()},
        )
        self._auth.add_auth(request)
        return {str(name): str(value) for name, value in request.headers.items()}
