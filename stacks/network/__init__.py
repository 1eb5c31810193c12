"""The private network SageMaker runs in (wired by :mod:`stacks.network_stack`).

``private_network`` (isolated VPC, flow logs, VPC endpoints) with ``endpoint_policies`` (what may
cross the endpoints); ``s3_prefix_list`` (the region's S3 prefix list, read at deploy time).
"""
