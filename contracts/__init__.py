"""What stacks, release, offline and functions agree on: names, bucket layout, file formats (no CDK)."""
