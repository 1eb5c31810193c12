"""Network stack: private isolated subnets, flow logs, endpoints from config, existing-VPC mode."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match
from platform_synth import APPROVED, SynthesizedPlatform, cdk_context, resources, synth_platform
from stand_ins import shared_resources

from contracts.config import INTERFACE_ENDPOINTS, load_config, network_for
from stacks.common.images import xgboost_registries
from stacks.network_stack import NetworkStack

ACCOUNT = {"Ref": "AWS::AccountId"}
REGION = {"Ref": "AWS::Region"}
PARTITION = {"Ref": "AWS::Partition"}
REGISTRY = {"Fn::FindInMap": ["ImageRegistry", REGION, "Account"]}
_PREFIX_LIST_ID = "PrefixLists.0.PrefixListId"


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


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _logical_id(template: dict[str, Any], resource_type: str, prefix: str) -> str:
    (logical_id,) = [k for k in resources(template, resource_type) if k.startswith(prefix)]
    return logical_id


def _egress(template: dict[str, Any]) -> set[tuple[Any, ...]]:
    """The SageMaker group's egress rules (inline and separate), as (protocol, from, to, kind, peer)."""
    group = _logical_id(template, "AWS::EC2::SecurityGroup", "SageMakerSecurityGroup")
    rules = list(template["Resources"][group]["Properties"].get("SecurityGroupEgress", []))
    rules += [
        r["Properties"]
        for r in resources(template, "AWS::EC2::SecurityGroupEgress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [group, "GroupId"]}
    ]
    kinds = ("CidrIp", "CidrIpv6", "DestinationSecurityGroupId", "DestinationPrefixListId")
    return {
        (rule["IpProtocol"], rule.get("FromPort"), rule.get("ToPort"), kind, _json(rule[kind]))
        for rule in rules
        for kind in kinds
        if kind in rule
    }


def _foreign_resources(accounts: list[Any]) -> dict[str, Any]:
    """The Deny condition: a resource owner is named (``Null`` false) and is none of ``accounts``.

    Not ``StringNotEqualsIfExists``: in a Deny it is true when the key is missing, so it would
    deny every call that names no resource (``ecr:GetAuthorizationToken``, ``sts:GetCallerIdentity``).
    """
    return {
        "StringNotEquals": {"aws:ResourceAccount": accounts},
        "Null": {"aws:ResourceAccount": "false"},
    }


def _interface_policies(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each interface endpoint's policy statements, by service suffix (``sts``, ``ecr.dkr``...)."""
    policies = {}
    for endpoint in resources(template, "AWS::EC2::VPCEndpoint").values():
        props = endpoint["Properties"]
        if props.get("VpcEndpointType") == "Interface":
            suffix = props["ServiceName"]["Fn::Join"][1][-1].lstrip(".")
            assert "PolicyDocument" in props, f"the {suffix} endpoint has no policy"
            policies[suffix] = props["PolicyDocument"]["Statement"]
    return policies


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
    env = synthesized.config.env  # with tracking, the experiments endpoint is added (network_for)
    expected = sorted(
        INTERFACE_ENDPOINTS[name] for name in network_for(env.network, env.tracking).interface_endpoints
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


def test_sagemaker_group_admits_only_itself(synthesized: SynthesizedPlatform) -> None:
    synthesized.templates["network"].has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {"IpProtocol": "-1", "SourceSecurityGroupId": Match.object_like({"Fn::GetAtt": Match.any_value()})},
    )


def test_sagemaker_group_egress_is_itself_nfs_the_endpoints_and_s3(synthesized: SynthesizedPlatform) -> None:
    template = synthesized.raw["network"]
    group = _logical_id(template, "AWS::EC2::SecurityGroup", "SageMakerSecurityGroup")
    endpoints = _logical_id(template, "AWS::EC2::SecurityGroup", "NetworkEndpointSecurityGroup")
    prefix_list = _logical_id(template, "Custom::S3PrefixList", "S3PrefixList")
    assert _egress(template) == {
        ("-1", None, None, "DestinationSecurityGroupId", _json({"Fn::GetAtt": [group, "GroupId"]})),
        ("tcp", 2049, 2049, "CidrIp", _json(synthesized.config.env.network.cidr)),
        ("tcp", 443, 443, "DestinationSecurityGroupId", _json({"Fn::GetAtt": [endpoints, "GroupId"]})),
        ("tcp", 443, 443, "DestinationPrefixListId", _json({"Fn::GetAtt": [prefix_list, _PREFIX_LIST_ID]})),
    }


def test_s3_prefix_list_is_read_at_deploy_time_by_a_read_only_call(synthesized: SynthesizedPlatform) -> None:
    # GIVEN the custom resource the S3 egress rule takes its prefix list from
    template = synthesized.raw["network"]
    (lookup,) = resources(template, "Custom::S3PrefixList").values()

    # THEN it calls EC2 DescribeManagedPrefixLists for this region's S3 list on create and update
    for event in ("Create", "Update"):
        parts = lookup["Properties"][event]["Fn::Join"][1]
        call = json.loads("".join(p if isinstance(p, str) else "REGION" for p in parts))
        assert (call["service"], call["action"]) == ("EC2", "DescribeManagedPrefixLists")
        assert call["parameters"]["Filters"] == [
            {"Name": "prefix-list-name", "Values": ["com.amazonaws.REGION.s3"]}
        ]
        assert parts[1] == {"Ref": "AWS::Region"}
    # AND its function may only read prefix lists (and write its own log group)
    function_arn = lookup["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    role = template["Resources"][function_arn]["Properties"]["Role"]["Fn::GetAtt"][0]
    actions = {
        action
        for policy in resources(template, "AWS::IAM::ManagedPolicy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in _list(statement["Action"])
    }
    assert actions == {"ec2:DescribeManagedPrefixLists", "logs:CreateLogStream", "logs:PutLogEvents"}
    assert not [
        p
        for p in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
    ]


def test_interface_endpoints_admit_only_this_accounts_principals_and_resources(
    synthesized: SynthesizedPlatform,
) -> None:
    checked = []
    for suffix, statements in _interface_policies(synthesized.raw["network"]).items():
        if suffix in ("studio", "notebook"):
            continue  # browser endpoints: see the next test
        if suffix == "experiments":
            continue  # MLflow tracking servers of this account only: tests/cdk/test_tracking.py
        allows = [s for s in statements if s["Effect"] == "Allow"]
        assert allows == [
            {
                "Sid": "OnlyThisAccountsPrincipals",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
            }
        ], suffix
        (deny,) = [s for s in statements if s["Effect"] == "Deny"]
        assert (deny["Action"], deny["Resource"], deny["Principal"]) == ("*", "*", {"AWS": "*"}), suffix
        accounts = [ACCOUNT, REGISTRY] if suffix.startswith("ecr.") else [ACCOUNT]
        assert deny["Condition"] == _foreign_resources(accounts), suffix
        checked.append(suffix)
    assert {"sagemaker.api", "sagemaker.runtime", "sts", "kms", "logs", "ecr.api", "ecr.dkr"} <= set(checked)


def test_studio_and_notebook_endpoints_reach_only_this_accounts_sagemaker_resources(
    synthesized: SynthesizedPlatform,
) -> None:
    own = {"Fn::Join": ["", ["arn:", PARTITION, ":sagemaker:", REGION, ":", ACCOUNT, ":*"]]}
    policies = _interface_policies(synthesized.raw["network"])
    for suffix in ("studio", "notebook"):
        allows = [s for s in policies[suffix] if s["Effect"] == "Allow"]
        assert [(s["Action"], s["Resource"]) for s in allows] == [("sagemaker:*", own)], suffix
        (deny,) = [s for s in policies[suffix] if s["Effect"] == "Deny"]
        assert deny["Condition"] == _foreign_resources([ACCOUNT])


def test_ecr_endpoints_admit_the_xgboost_image_registry_of_each_region(
    synthesized: SynthesizedPlatform,
) -> None:
    mapping = synthesized.raw["network"]["Mappings"]["ImageRegistry"]
    assert {region: row["Account"] for region, row in mapping.items()} == xgboost_registries()
    # The registry the approved model's image comes from is the one admitted in its region.
    assert mapping["eu-west-1"]["Account"] == APPROVED.image_uri.split(".")[0]


def test_s3_gateway_reaches_other_accounts_only_to_read_ecr_image_layers(
    synthesized: SynthesizedPlatform,
) -> None:
    (gateway,) = [
        e["Properties"]
        for e in resources(synthesized.raw["network"], "AWS::EC2::VPCEndpoint").values()
        if e["Properties"].get("VpcEndpointType") == "Gateway"
    ]
    statements = gateway["PolicyDocument"]["Statement"]
    layers = {"Fn::Join": ["", ["arn:", PARTITION, ":s3:::prod-", REGION, "-starport-layer-bucket/*"]]}
    # Allowed: this account's principals, and (ECR presigns layer downloads itself) GetObject on the layers.
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert [(s["Action"], s["Resource"], s.get("Condition")) for s in allows] == [
        ("*", "*", {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}),
        ("s3:GetObject", layers, None),
    ]
    # Denied on other accounts' resources: every other action, and GetObject on anything but the layers.
    denies = [s for s in statements if s["Effect"] == "Deny"]
    assert [
        (s.get("NotAction"), s.get("Resource"), s.get("Action"), s.get("NotResource")) for s in denies
    ] == [
        ("s3:GetObject", "*", None, None),
        (None, None, "s3:GetObject", layers),
    ]
    assert all(s["Condition"] == _foreign_resources([ACCOUNT]) for s in denies)


def test_trimmed_endpoint_list_and_more_azs(tmp_path: Any) -> None:
    # GIVEN a sandbox that keeps only the SageMaker API endpoint, asks for 3 AZs and tracks no runs
    # (tracking would add the experiments endpoint)
    def trim(context: dict[str, Any]) -> None:
        _network(context)["interfaceEndpoints"] = ["sagemaker_api"]
        _network(context)["maxAzs"] = 3
        context["environments"]["dev"].pop("tracking", None)

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


def test_existing_vpc_sagemaker_egress_sends_https_to_the_vpc_range_and_s3(
    existing: SynthesizedPlatform,
) -> None:
    template = existing.raw["network"]
    group = _logical_id(template, "AWS::EC2::SecurityGroup", "SageMakerSecurityGroup")
    prefix_list = _logical_id(template, "Custom::S3PrefixList", "S3PrefixList")
    assert _egress(template) == {
        ("-1", None, None, "DestinationSecurityGroupId", _json({"Fn::GetAtt": [group, "GroupId"]})),
        ("tcp", 2049, 2049, "CidrIp", _json(EXISTING["cidr"])),
        ("tcp", 443, 443, "CidrIp", _json(EXISTING["cidr"])),
        ("tcp", 443, 443, "DestinationPrefixListId", _json({"Fn::GetAtt": [prefix_list, _PREFIX_LIST_ID]})),
    }


@pytest.mark.parametrize("variant", ["synthesized", "existing"])
def test_sagemaker_group_has_no_egress_to_the_internet(variant: str, request: pytest.FixtureRequest) -> None:
    synthesized: SynthesizedPlatform = request.getfixturevalue(variant)
    egress = _egress(synthesized.raw["network"])
    ranges = {json.loads(peer) for _, _, _, kind, peer in egress if kind in ("CidrIp", "CidrIpv6")}
    assert "0.0.0.0/0" not in ranges
    assert "::/0" not in ranges
    # The only address range it sends to is the VPC's own.
    assert ranges == {synthesized.config.env.network.cidr}


def test_env_specific_network_synth_makes_no_context_lookups(tmp_path: Any) -> None:
    # GIVEN the network stack with a known account and region, where CDK would record a
    # synth-time lookup (PrefixList.from_lookup, Vpc.from_lookup) as missing context
    app = cdk.App(outdir=str(tmp_path))
    env = cdk.Environment(account="111122223333", region="eu-west-1")
    config = load_config(cdk_context())
    shared = shared_resources(cdk.Stack(app, "Deps", env=env), config)
    stack = NetworkStack(app, "Network", config=config.env.network, shared=shared, env=env)

    # WHEN it is synthesized
    assembly = app.synth()

    # THEN nothing is missing and the S3 prefix list ID is a deploy-time attribute, not a literal
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "missing" not in manifest
    template = assembly.get_stack_by_name(stack.stack_name).template
    (rule,) = [r for r in _egress(template) if r[3] == "DestinationPrefixListId"]
    assert "Custom::S3PrefixList" in {template["Resources"][json.loads(rule[4])["Fn::GetAtt"][0]]["Type"]}
