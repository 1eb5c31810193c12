"""Lambda handlers (standard library + boto3 only; this folder is the Lambda code asset)."""
