"""What a role that places SageMaker network interfaces in the project VPC must be able to look up."""

from __future__ import annotations

from typing import Final

#: The EC2 describes SageMaker makes with a job's or a model's role before it creates the role's
#: network interfaces; none of them has resource-level permissions (so ``"*"``).
DESCRIBE_FOR_ENIS: Final = (
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
)
