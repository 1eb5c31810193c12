"""Network stack: private isolated subnets, flow logs, endpoints from config, existing-VPC mode."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match
from platform_synth import SynthesizedPlatform, resources, synth_platform

from stacks.config import INTERFACE_ENDPOINTS


def _network(context: dict[str, Any]) -> dict[str, Any]:
    return context["environments"]["dev"]["network"]


def _service_suffixes(template: dict[str, Any]) -> list[str]:
    """The service suffix of every interface endpoint (``...{Region}.<suffix>``)."""
    suffixes = []
    for endpoint in resources(template, "AWS::EC2::VPCEndpoint").values():
        props = endpoint["Properties"]
        if props.get("VpcEndpointType") != "Interface":
            continue
        parts = props["ServiceName"]["Fn::Join"][1]
        suffixes.append(parts[-1].lstrip("."))
    return sorted(suffixes)


def test_vpc_has_only_isolated_subnets_in_two_azs(synthesized: SynthesizedPlatform) -> None:
    template = synthesized.templates["network"]
    template.resource_count_is("AWS::EC2::VPC", 1)
    template.resource_count_is("AWS::EC2::Subnet", 2)
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    template.has_resource_properties("AWS::EC2::Subnet", {"MapPublicIpOnLaunch": False})
    assert len(synthesized.platform.network.subnets) == 2


def test_flow_logs_go_to_a_kms_encrypted_retained_log_group(synthesized: SynthesizedPlatform) -> None:
    template = synthesized.templates["network"]
    template.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "ALL", "ResourceType": "VPC"})
    template.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {
                "KmsKeyId": Match.any_value(),
                "RetentionInDays": synthesized.config.env.network.flow_log_retention_days,
            },
            "DeletionPolicy": "Retain",
        },
    )


def test_interface_endpoints_follow_config_with_private_dns(synthesized: SynthesizedPlatform) -> None:
    template = synthesized.raw["network"]
    expected = sorted(
        INTERFACE_ENDPOINTS[name] for name in synthesized.config.env.network.interface_endpoints
    )
    assert _service_suffixes(template) == expected
    interface = [
        e["Properties"]
        for e in resources(template, "AWS::EC2::VPCEndpoint").values()
        if e["Properties"].get("VpcEndpointType") == "Interface"
    ]
    assert all(props["PrivateDnsEnabled"] is True for props in interface)


def test_studio_and_notebook_endpoints_use_the_sagemaker_service_prefix(
    synthesized: SynthesizedPlatform,
) -> None:
    for endpoint in resources(synthesized.raw["network"], "AWS::EC2::VPCEndpoint").values():
        parts = endpoint["Properties"]["ServiceName"]
        if isinstance(parts, dict) and parts["Fn::Join"][1][-1] in (".studio", ".notebook"):
            assert parts["Fn::Join"][1][0] == "aws.sagemaker."


def test_s3_gateway_endpoint_exists(synthesized: SynthesizedPlatform) -> None:
    synthesized.templates["network"].has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {"VpcEndpointType": "Gateway", "ServiceName": Match.object_like({"Fn::Join": Match.any_value()})},
    )


def test_endpoint_security_group_only_admits_https_from_the_vpc(synthesized: SynthesizedPlatform) -> None:
    cidr = synthesized.config.env.network.cidr
    groups = resources(synthesized.raw["network"], "AWS::EC2::SecurityGroup")
    endpoint_group = next(g for k, g in groups.items() if "EndpointSecurityGroup" in k)
    (rule,) = endpoint_group["Properties"]["SecurityGroupIngress"]
    assert (rule["CidrIp"], rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == (cidr, "tcp", 443, 443)


def test_sagemaker_security_group_egress_is_https_nfs_and_itself(synthesized: SynthesizedPlatform) -> None:
    groups = resources(synthesized.raw["network"], "AWS::EC2::SecurityGroup")
    group = next(g for k, g in groups.items() if k.startswith("SageMakerSecurityGroup"))
    egress = group["Properties"]["SecurityGroupEgress"]
    assert {(rule.get("CidrIp"), rule["FromPort"], rule["ToPort"]) for rule in egress} == {
        ("0.0.0.0/0", 443, 443),
        (synthesized.config.env.network.cidr, 2049, 2049),
    }
    synthesized.templates["network"].has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {"IpProtocol": "-1", "SourceSecurityGroupId": Match.object_like({"Fn::GetAtt": Match.any_value()})},
    )


def test_trimmed_endpoint_list_and_more_azs(tmp_path: Any) -> None:
    # GIVEN a sandbox that keeps only the SageMaker API endpoint and asks for 3 AZs
    def trim(context: dict[str, Any]) -> None:
        _network(context)["interfaceEndpoints"] = ["sagemaker_api"]
        _network(context)["maxAzs"] = 3

    # WHEN the whole app is synthesized
    result = synth_platform(tmp_path, edit=trim)

    # THEN one interface endpoint exists and subnets span three Fn::GetAZs picks, offline
    assert _service_suffixes(result.raw["network"]) == ["sagemaker.api"]
    subnets = resources(result.raw["network"], "AWS::EC2::Subnet").values()
    assert sorted(s["Properties"]["AvailabilityZone"]["Fn::Select"][0] for s in subnets) == [0, 1, 2]


EXISTING = {
    "mode": "existing",
    "vpcId": "vpc-0123456789abcdef0",
    "cidr": "10.9.0.0/16",
    "subnetIds": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
    "availabilityZones": ["eu-west-1a", "eu-west-1b"],
}


@pytest.fixture(scope="module")
def existing(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedPlatform:
    def use_existing(context: dict[str, Any]) -> None:
        context["environments"]["dev"]["network"] = dict(EXISTING)

    return synth_platform(tmp_path_factory.mktemp("existing"), edit=use_existing)


def test_existing_vpc_creates_no_network_resources(existing: SynthesizedPlatform) -> None:
    template = existing.templates["network"]
    for resource_type in ("AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::VPCEndpoint", "AWS::EC2::FlowLog"):
        template.resource_count_is(resource_type, 0)
    template.resource_count_is("AWS::EC2::SecurityGroup", 1)


def test_existing_vpc_subnets_reach_the_studio_domain(existing: SynthesizedPlatform) -> None:
    existing.templates["studio"].has_resource_properties(
        "AWS::SageMaker::Domain", {"VpcId": EXISTING["vpcId"], "SubnetIds": EXISTING["subnetIds"]}
    )
