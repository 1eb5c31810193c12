"""The test evaluator (``policy_eval``) on AWS's documented policy examples and rules.

Each test names the AWS page its policy, request and expected outcome come from.
"""

from __future__ import annotations

from typing import Any

import pytest
from policy_eval import (
    EvaluationError,
    Policy,
    Principal,
    Request,
    authorize,
    conditions_hold,
    endpoint_decision,
)

ALICE = Principal.role("arn:aws:iam::111122223333:role/alice")
BOB = Principal.role("arn:aws:iam::111122223333:role/bob")
OUTSIDER = Principal.role("arn:aws:iam::444455556666:role/outsider")
BUCKET = "arn:aws:s3:::amzn-s3-demo-bucket"


def policy(*statements: dict[str, Any], name: str = "p") -> Policy:
    return Policy(name, {"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def holds(condition: dict[str, Any], context: dict[str, Any]) -> bool:
    return conditions_hold(condition, {k.lower(): v for k, v in context.items()})


# ---------------------------------------------------------------------- evaluation logic


def test_default_is_implicit_deny() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    "By default, all requests are implicitly denied"."""
    request = Request(ALICE, "s3:GetObject", f"{BUCKET}/a", resource_account="111122223333")
    assert not authorize(request)
    assert not authorize(request, identity=[policy(allow("s3:PutObject"))])


def test_explicit_deny_overrides_allow_in_any_policy() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    "An explicit deny in any policy overrides any allows" (identity or resource-based)."""
    request = Request(ALICE, "s3:GetObject", f"{BUCKET}/a", resource_account="111122223333")
    identity = [policy(allow("s3:*"))]
    assert authorize(request, identity=identity)
    assert not authorize(request, identity=[*identity, policy(deny("s3:GetObject", f"{BUCKET}/*"))])
    bucket_deny = policy({**deny("s3:*", f"{BUCKET}/*"), "Principal": "*"})
    assert not authorize(request, identity=identity, resource=[bucket_deny])


def test_same_account_resource_policy_alone_allows_the_named_principal() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policies.html
    (identity-based with resource-based policies): within one account, an Allow in either suffices;
    naming the account (not the role) only delegates to the account's identity policies."""
    request = Request(ALICE, "s3:GetObject", f"{BUCKET}/a", resource_account="111122223333")
    assert authorize(
        request, resource=[policy({**allow("s3:GetObject", f"{BUCKET}/*"), "Principal": {"AWS": ALICE.arn}})]
    )
    assert not authorize(
        request, resource=[policy({**allow("s3:GetObject", f"{BUCKET}/*"), "Principal": {"AWS": BOB.arn}})]
    )
    account = policy(
        {**allow("s3:GetObject", f"{BUCKET}/*"), "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}
    )
    assert not authorize(request, resource=[account])
    assert authorize(request, resource=[account], identity=[policy(allow("s3:GetObject"))])


def test_cross_account_needs_both_sides() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
    Across accounts the identity policy and the resource policy must both allow."""
    request = Request(OUTSIDER, "s3:GetObject", f"{BUCKET}/a", resource_account="111122223333")
    grant = policy({**allow("s3:GetObject", f"{BUCKET}/*"), "Principal": {"AWS": OUTSIDER.arn}})
    assert not authorize(request, identity=[policy(allow("s3:*"))])
    assert not authorize(request, resource=[grant])
    assert authorize(request, identity=[policy(allow("s3:*"))], resource=[grant])


def test_kms_key_policy_must_allow() -> None:
    """https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
    No principal may use a key unless its key policy allows it; the default "Enable IAM policies"
    statement (the account as principal) lets identity policies grant access."""
    key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd"
    request = Request(ALICE, "kms:Decrypt", key)
    identity = [policy(allow("kms:Decrypt", key))]
    without_root = policy({**allow("kms:*"), "Principal": {"AWS": BOB.arn}})
    enable_iam = policy({**allow("kms:*"), "Principal": {"AWS": "arn:aws:iam::111122223333:root"}})
    direct = policy({**allow("kms:Decrypt"), "Principal": {"AWS": ALICE.arn}})
    assert not authorize(request, identity=identity, key_policy=without_root)
    assert authorize(request, identity=identity, key_policy=enable_iam)
    assert not authorize(request, key_policy=enable_iam)
    assert authorize(request, key_policy=direct)


def test_vpc_endpoint_policy_must_also_allow() -> None:
    """https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html
    An endpoint policy does not grant: it must allow as well, and its Deny wins."""
    request = Request(ALICE, "s3:GetObject", f"{BUCKET}/a", resource_account="111122223333")
    identity = [policy(allow("s3:*"))]
    only_other = policy({**allow("s3:GetObject", "arn:aws:s3:::other/*"), "Principal": "*"}, name="ep")
    assert not authorize(request, identity=identity, endpoints=[only_other])
    account_only = policy(
        {
            **allow("*"),
            "Principal": "*",
            "Condition": {"StringEquals": {"aws:PrincipalAccount": "111122223333"}},
        },
        name="ep",
    )
    assert authorize(request, identity=identity, endpoints=[account_only])
    assert not endpoint_decision(Request(OUTSIDER, "s3:GetObject", "arn:aws:s3:::x/y"), [account_only])


# ---------------------------------------------------------------------- elements


def test_action_names_are_case_insensitive_with_wildcards() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html"""
    for action in ("s3:getobject", "S3:GetObject", "s3:GetObjectVersion"):
        assert authorize(Request(ALICE, action, f"{BUCKET}/a"), identity=[policy(allow("s3:Get*"))])
    assert not authorize(Request(ALICE, "s3:PutObject", f"{BUCKET}/a"), identity=[policy(allow("s3:Get*"))])


def test_not_action_allows_everything_else() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
    "Allow NotAction iam:*" allows every service's actions except IAM's."""
    everything_but_iam = [policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})]
    assert authorize(Request(ALICE, "s3:PutObject", f"{BUCKET}/a"), identity=everything_but_iam)
    assert not authorize(
        Request(ALICE, "iam:CreateUser", "arn:aws:iam::111122223333:user/x"), identity=everything_but_iam
    )


def test_not_resource_and_resource_wildcards() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html
    and ..._elements_resource.html: ``*`` matches any characters, ``/`` and ``:`` included."""
    spans = [policy(allow("s3:GetObject", f"{BUCKET}/*"))]
    assert authorize(Request(ALICE, "s3:GetObject", f"{BUCKET}/a/b/c.csv"), identity=spans)
    except_hr = [policy({"Effect": "Allow", "Action": "s3:*", "NotResource": f"{BUCKET}/HRpayroll/*"})]
    assert authorize(Request(ALICE, "s3:GetObject", f"{BUCKET}/public/x"), identity=except_hr)
    assert not authorize(Request(ALICE, "s3:GetObject", f"{BUCKET}/HRpayroll/x"), identity=except_hr)


def test_not_principal_with_deny_spares_only_the_named() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html"""
    guard = policy({**deny("s3:PutObject", f"{BUCKET}/runs/*"), "NotPrincipal": {"AWS": ALICE.arn}})
    identity = [policy(allow("s3:*"))]
    assert authorize(Request(ALICE, "s3:PutObject", f"{BUCKET}/runs/x"), identity=identity, resource=[guard])
    assert not authorize(
        Request(BOB, "s3:PutObject", f"{BUCKET}/runs/x"), identity=identity, resource=[guard]
    )


def test_policy_variables_in_resources() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    ``${aws:username}`` is replaced from the request; ``${*}`` is a literal ``*``; a variable with
    no value in the request makes the element not match; ``${key, 'default'}`` supplies one."""
    home = [policy(allow("s3:*", f"{BUCKET}/home/${{aws:username}}/*"))]
    assert authorize(
        Request(ALICE, "s3:GetObject", f"{BUCKET}/home/alice/x", {"aws:username": "alice"}), identity=home
    )
    assert not authorize(
        Request(ALICE, "s3:GetObject", f"{BUCKET}/home/bob/x", {"aws:username": "alice"}), identity=home
    )
    assert not authorize(Request(ALICE, "s3:GetObject", f"{BUCKET}/home/alice/x"), identity=home)
    literal = [policy(allow("s3:GetObject", f"{BUCKET}/${{*}}star"))]
    assert authorize(Request(ALICE, "s3:GetObject", f"{BUCKET}/*star"), identity=literal)
    assert not authorize(Request(ALICE, "s3:GetObject", f"{BUCKET}/anystar"), identity=literal)
    team = [policy(allow("s3:GetObject", f"{BUCKET}/${{aws:PrincipalTag/team, 'company-wide'}}/*"))]
    assert authorize(Request(ALICE, "s3:GetObject", f"{BUCKET}/company-wide/x"), identity=team)


# ---------------------------------------------------------------------- condition operators


def test_string_operators_and_missing_keys() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    "If the key ... is not present in the request context, the values do not match and the
    condition is false. If the policy condition requires that the key is not matched, such as
    StringNotLike or ArnNotLike, and the right key is not present, the condition is true." """
    condition = {"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}
    assert holds(condition, {"aws:PrincipalTag/job-category": "iamuser-admin"})
    assert not holds(condition, {"aws:PrincipalTag/job-category": "IAMUSER-ADMIN"})
    assert not holds(condition, {})
    assert holds({"StringNotLike": {"aws:PrincipalTag/job-category": "iam*"}}, {})
    assert holds(
        {"StringEqualsIgnoreCase": {"aws:PrincipalTag/job-category": "IAMuser-Admin"}},
        {"aws:PrincipalTag/job-category": "iamuser-admin"},
    )
    assert holds(
        {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/"]}},
        {"s3:prefix": "home/alice/", "aws:username": "alice"},
    )
    assert not holds(
        {"StringLike": {"s3:prefix": "home/${aws:username}/"}},
        {"s3:prefix": "home/bob/", "aws:username": "alice"},
    )


def test_multiple_values_or_and_negated_nor() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
    Operators AND, keys AND, a key's values OR; a negated operator's values NOR."""
    either = {"StringEquals": {"aws:PrincipalTag/role": ["audit", "security"]}}
    neither = {"StringNotEquals": {"aws:PrincipalTag/role": ["audit", "security"]}}
    assert holds(either, {"aws:PrincipalTag/role": "audit"})
    assert not holds(neither, {"aws:PrincipalTag/role": "audit"})
    assert holds(neither, {"aws:PrincipalTag/role": "dev"})
    both = {"StringEquals": {"aws:PrincipalTag/role": "audit"}, "Bool": {"aws:SecureTransport": "true"}}
    assert holds(both, {"aws:PrincipalTag/role": "audit", "aws:SecureTransport": True})
    assert not holds(both, {"aws:PrincipalTag/role": "audit", "aws:SecureTransport": False})


def test_if_exists_and_null() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    ``StringLikeIfExists`` on ``ec2:InstanceType`` holds when the key is absent; ``Null: true``
    holds when the key is absent (``aws:TokenIssueTime`` with long-term credentials), ``false``
    when it is present."""
    instance = {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}
    assert holds(instance, {})
    assert holds(instance, {"ec2:InstanceType": "t2.micro"})
    assert not holds(instance, {"ec2:InstanceType": "m5.large"})
    assert holds({"Null": {"aws:TokenIssueTime": "true"}}, {})
    assert not holds({"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"})
    assert holds({"Null": {"sagemaker:VpcSubnets": "false"}}, {"sagemaker:VpcSubnets": ["subnet-1"]})
    assert not holds({"Null": {"sagemaker:VpcSubnets": "false"}}, {})


def test_bool_numeric_ip_and_arn_operators() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    Bool (``aws:SecureTransport``), Numeric (``s3:max-keys`` <= 10), IpAddress (CIDR) and Arn
    operators; ArnLike matches each of the six colon-separated parts on its own."""
    assert holds({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": True})
    assert not holds({"Bool": {"aws:SecureTransport": "true"}}, {})
    assert holds({"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"})
    assert not holds({"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "11"})
    assert holds({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "203.0.113.7"})
    assert holds({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "198.51.100.1"})
    topic = "arn:aws:sns:eu-west-1:111122223333:alerts"
    assert holds({"ArnEquals": {"aws:SourceArn": topic}}, {"aws:SourceArn": topic})
    assert holds(
        {"ArnLike": {"aws:SourceArn": "arn:aws:events:*:111122223333:rule/*"}},
        {"aws:SourceArn": "arn:aws:events:eu-west-1:111122223333:rule/x"},
    )
    # a wildcard does not cross a colon: the account part must match on its own
    assert not holds(
        {"ArnLike": {"aws:SourceArn": "arn:aws:events:eu-west-1:*"}},
        {"aws:SourceArn": "arn:aws:events:eu-west-1"},
    )
    assert not holds(
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}},
        {"aws:PrincipalArn": "arn:aws:iam::444455556666:user/x"},
    )


def test_for_all_values_deny_table() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition_examples-multi-valued-context-keys.html
    "Deny a single policy condition value for a multivalued context key": ForAllValues:StringNotLike
    ``aws:TagKeys`` "key1*" — key1:legal no match; key1:hr + key1:personnel no match; key2:audit
    match; no aws:TagKeys in the request: match ("ForAllValues ... returns true if there are no
    context keys in the request")."""
    condition = {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}
    assert not holds(condition, {"aws:TagKeys": ["key1:legal"]})
    assert not holds(condition, {"aws:TagKeys": ["key1:hr", "key1:personnel"]})
    assert holds(condition, {"aws:TagKeys": ["key2:audit"]})
    assert holds(condition, {})
    request = Request(
        ALICE, "iam:TagRole", "arn:aws:iam::111122223333:role/x", {"aws:TagKeys": ["key2:audit"]}
    )
    statement = {"Sid": "DenyRestrictedTags", **deny(["iam:Tag*", "iam:UnTag*"], ["*"], Condition=condition)}
    assert not authorize(request, identity=[policy(allow("iam:*"), statement)])


def test_for_all_values_allow_needs_a_null_check() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    ForAllValues with Allow is true for a missing key; ``Null: false`` closes that hole."""
    subnets = {"ForAllValues:StringEquals": {"sagemaker:VpcSubnets": ["subnet-a", "subnet-b"]}}
    assert holds(subnets, {"sagemaker:VpcSubnets": ["subnet-a"]})
    assert not holds(subnets, {"sagemaker:VpcSubnets": ["subnet-a", "subnet-evil"]})
    assert holds(subnets, {})
    assert not holds({**subnets, "Null": {"sagemaker:VpcSubnets": "false"}}, {})


def test_for_any_value() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    ForAnyValue: at least one request value matches one policy value; false for a missing key."""
    condition = {"ForAnyValue:StringEquals": {"aws:TagKeys": ["key1", "key2"]}}
    assert holds(condition, {"aws:TagKeys": ["key1", "other"]})
    assert not holds(condition, {"aws:TagKeys": ["other"]})
    assert not holds(condition, {})


@pytest.mark.parametrize("operator", ["DateLessThan", "BinaryEquals", "ForEachValue:StringEquals"])
def test_unmodelled_operators_raise(operator: str) -> None:
    """An operator the evaluator does not know must fail the test, never be skipped."""
    with pytest.raises(EvaluationError):
        holds({operator: {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, {"aws:CurrentTime": "x"})
