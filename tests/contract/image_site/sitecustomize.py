"""Contract harness only (put on PYTHONPATH of the image's interpreter for jobs that call AWS).

boto3 honours ``AWS_ENDPOINT_URL`` from 1.28 on; the image pins boto3 1.17.52, which ignores it
and would call the real AWS endpoints. This points every client the job creates without an
explicit endpoint at ``$AWS_ENDPOINT_URL`` (the offline AWS stand-in), as a newer boto3 would.
Nothing else changes: the job's own calls, parameters and error handling run as in the image.
"""

import os

_URL = os.environ.get("AWS_ENDPOINT_URL")
if _URL:
    import botocore.session

    _create_client = botocore.session.Session.create_client

    def _create_client_at_stand_in(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs.get("endpoint_url") is None and len(args) < 6:  # endpoint_url: 6th positional
            kwargs["endpoint_url"] = _URL
        return _create_client(self, *args, **kwargs)

    botocore.session.Session.create_client = _create_client_at_stand_in
