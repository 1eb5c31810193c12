"""Create-only values as known at synth, for the fingerprint in model and endpoint config names.

A literal is itself. A value CloudFormation resolves at deploy (a token: a role ARN, a key ARN
from the data stack, the ID of a subnet this app creates) cannot be hashed at synth; it stands
for ``<construct path>.<attribute>`` instead. The path moves when the resource would be a new one
(another logical ID or stack), which is when such a value normally changes. See
:mod:`contracts.names` for why and for what this cannot see.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import IConstruct


def at_synth(value: str, source: IConstruct, attribute: str) -> str:
    """``value`` when synth knows it, else ``<path of source>.<attribute>``."""
    if not cdk.Token.is_unresolved(value):
        return value
    return f"<{source.node.path}.{attribute}>"


def subnet_at_synth(subnet: ec2.ISubnet) -> object:
    """A subnet's ID when synth knows it (an existing subnet named in config); for a subnet this
    app creates, its construct path and CIDR block (a new CIDR is a new subnet, so a new ID)."""
    if not cdk.Token.is_unresolved(subnet.subnet_id):
        return subnet.subnet_id
    return {
        "SubnetId": at_synth(subnet.subnet_id, subnet, "SubnetId"),
        "CidrBlock": at_synth(subnet.ipv4_cidr_block, subnet, "CidrBlock"),
    }
