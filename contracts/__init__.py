"""What every package of ours agrees on: names, bucket layout, file formats (no CDK, no boto3)."""
