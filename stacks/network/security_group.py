"""The security group every SageMaker workload uses: egress only to what SageMaker needs."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from constructs import Construct

from contracts.config import NetworkConfig
from stacks.common.nag import acknowledge
from stacks.network.s3_prefix_list import S3PrefixList, S3PrefixListProps


def sagemaker_security_group(
    scope: Construct, config: NetworkConfig, *, vpc: ec2.IVpc, https_peer: ec2.IPeer, key: kms.IKey
) -> ec2.ISecurityGroup:
    """The configured group as is, or a new one whose egress reaches only what SageMaker needs.

    Egress: itself (all traffic), NFS to the VPC (Studio's home EFS), HTTPS to ``https_peer``
    (the interface endpoints) and HTTPS to the region's S3 prefix list (the gateway endpoint,
    read by :class:`S3PrefixList`, whose log group ``key`` encrypts). Nothing goes to an address
    range outside the VPC but S3's.
    """
    if config.security_group_id is not None:
        return ec2.SecurityGroup.from_security_group_id(
            scope, "SageMakerSecurityGroup", config.security_group_id, mutable=False
        )
    group = ec2.SecurityGroup(
        scope,
        "SageMakerSecurityGroup",
        vpc=vpc,
        description="SageMaker Studio apps, jobs and endpoints",
        allow_all_outbound=False,
    )
    # Studio apps talk to each other and training/processing instances talk to each other
    # (distributed jobs) inside this group; AWS documents both for VpcOnly domains.
    group.add_ingress_rule(group, ec2.Port.all_traffic(), "Studio apps and distributed jobs")
    for child in group.node.children:
        if isinstance(child, ec2.CfnSecurityGroupIngress):
            acknowledge(
                child,
                "NIST.800.53.R5-EC2RestrictedCommonPorts",
                "The only source is this same security group (self-reference), which AWS "
                "requires for VpcOnly Studio inter-app traffic and distributed training; no "
                "address range is admitted on any port.",
            )
    group.add_egress_rule(group, ec2.Port.all_traffic(), "Studio apps and distributed jobs")
    group.add_egress_rule(ec2.Peer.ipv4(config.cidr), ec2.Port.tcp(2049), "Studio home EFS (NFS)")
    group.add_egress_rule(https_peer, ec2.Port.tcp(443), "HTTPS to the AWS API endpoints")
    s3 = S3PrefixList(scope, "S3PrefixList", props=S3PrefixListProps(key=key))
    group.add_egress_rule(s3.peer, ec2.Port.tcp(443), "HTTPS to S3 through the gateway endpoint")
    return group
