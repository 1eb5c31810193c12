"""EventBridge, offline: an event routed through the synthesized rules, across accounts too.

moto stores rules and matches patterns, but its cross-account bus target drops the event's
``account`` and ``resources`` (EventBridge keeps them), it applies no bus policy, and it cannot
invoke a Lambda target without Docker. So the emulator routes an event itself, from the cloud
assembly: every ``AWS::Events::Rule`` of the receiving account on the receiving bus whose pattern
matches (matched by moto's own ``EventPattern``, as ``tests/aws/test_approval_events.py`` does)
hands the event to each target:

- an event bus in another account: the event goes there unchanged, if that bus's
  ``AWS::Events::EventBusPolicy`` admits the sending account (principal, action, resource and
  its ``StringEquals`` conditions on ``events:source``/``events:detail-type``;
  ``aws:PrincipalOrgID`` cannot be evaluated offline, which :attr:`Delivery.unchecked` names),
  and that bus's rules route it on;
- anything else (a Lambda function, an SNS topic): a :class:`Delivery` the caller carries out,
  with the input as the target would get it (``InputTransformer`` applied as moto applies it).

A bus that refuses an event raises :class:`RefusedError`: in AWS the sending rule's target would
fail and the event would go to the rule's dead-letter queue.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moto.events.models import EventPattern
from moto.events.utils import EventTemplateParser

from emulator.cfn import Assembly
from emulator.standins import ACCOUNT, PARTITION, REGION

DEFAULT_BUS = "default"
#: Condition keys of a bus policy the emulator evaluates (any other one fails loudly).
_EVALUATED = {"events:source": "source", "events:detail-type": "detail-type"}
_NOT_OFFLINE = frozenset({"aws:PrincipalOrgID"})


class RefusedError(RuntimeError):
    """A bus's policy does not admit the sending account (the message says which statement part)."""


@dataclass(frozen=True)
class Delivery:
    """One target an event reached: which rule sent it, the target's kind and ARN, its input."""

    rule: str
    account: str
    kind: str
    target: str
    event: dict[str, Any]
    #: The input as the target receives it when the rule transforms it (text for a topic).
    text: str | None = None
    #: Buses the event crossed into, and conditions of their policies not evaluated offline.
    path: tuple[str, ...] = ()
    unchecked: tuple[str, ...] = ()


def bus_arn(account: str, name: str) -> str:
    return f"arn:{PARTITION}:events:{REGION}:{account}:event-bus/{name}"


def route(
    assembly: Assembly,
    event: Mapping[str, Any],
    *,
    account: str,
    bus: str = DEFAULT_BUS,
    _path: tuple[str, ...] = (),
    _unchecked: tuple[str, ...] = (),
) -> list[Delivery]:
    """Where ``event``, put on ``bus`` of ``account``, ends up: the deliveries to non-bus targets.

    Raises:
        RefusedError: a cross-account bus target's policy does not admit the sender.
    """
    deliveries: list[Delivery] = []
    for stack, logical_id, resource in assembly.resources_of_type("AWS::Events::Rule"):
        if _account_of(assembly, stack) != account:
            continue
        where = f"{stack}/{logical_id}"
        props = assembly.resolve(stack, resource.get("Properties") or {}, where)
        if props.get("EventBusName", DEFAULT_BUS) != bus or props.get("State", "ENABLED") != "ENABLED":
            continue
        if not EventPattern.load(json.dumps(props.get("EventPattern") or {})).matches_event(
            dict(event)  # type: ignore[arg-type]
        ):
            continue
        raw_targets = (resource.get("Properties") or {}).get("Targets") or []
        for raw, target in zip(raw_targets, props.get("Targets") or [], strict=True):
            kind = _kind(assembly, stack, raw["Arn"], str(target["Arn"]))
            if kind == "event-bus":
                to_account, to_bus = _split_bus(str(target["Arn"]))
                unchecked = _admit(assembly, event, sender=account, account=to_account, bus=to_bus)
                deliveries += route(
                    assembly,
                    event,
                    account=to_account,
                    bus=to_bus,
                    _path=(*_path, str(target["Arn"])),
                    _unchecked=(*_unchecked, *unchecked),
                )
                continue
            text = _transformed(event, target)
            deliveries.append(
                Delivery(where, account, kind, str(target["Arn"]), dict(event), text, _path, _unchecked)
            )
    return deliveries


def _account_of(assembly: Assembly, stack: str) -> str:
    return assembly.target(stack).account or ACCOUNT


def _kind(assembly: Assembly, stack: str, raw: Any, arn: str) -> str:
    """The target's kind: from the resource a Ref/GetAtt names (a topic's Ref is its ARN in AWS,
    a stand-in name offline), else from the ARN's service."""
    referenced = raw.get("Ref") if isinstance(raw, dict) else None
    if isinstance(raw, dict) and "Fn::GetAtt" in raw:
        referenced = raw["Fn::GetAtt"][0]
    if referenced is not None:
        kind = str(assembly.templates[stack]["Resources"][referenced]["Type"])
        return {"AWS::SNS::Topic": "topic", "AWS::Lambda::Function": "function"}.get(kind, kind)
    service = arn.split(":")[2] if arn.count(":") >= 5 else ""
    if service == "events" and ":event-bus/" in arn:
        return "event-bus"
    return {"sns": "topic", "lambda": "function"}.get(service, service or arn)


def _split_bus(arn: str) -> tuple[str, str]:
    return arn.split(":")[4], arn.rsplit("/", 1)[-1]


def _admit(
    assembly: Assembly, event: Mapping[str, Any], *, sender: str, account: str, bus: str
) -> tuple[str, ...]:
    """The conditions not evaluated offline when ``bus`` of ``account`` admits ``sender``'s event.

    Raises:
        RefusedError: no statement of the bus's policies admits it.
    """
    if sender == account:
        return ()
    target, reasons = bus_arn(account, bus), []
    for stack, logical_id, resource in assembly.resources_of_type("AWS::Events::EventBusPolicy"):
        if _account_of(assembly, stack) != account:
            continue
        props = assembly.resolve(stack, resource.get("Properties") or {}, f"{stack}/{logical_id}")
        if props.get("EventBusName", DEFAULT_BUS) != bus:
            continue
        statement = props.get("Statement") or {}
        why = _refusal(statement, event, sender=sender, bus=target)
        if why is None:
            conditions = statement.get("Condition", {}).get("StringEquals", {})
            return tuple(f"{target}: {key}" for key in sorted(conditions) if key in _NOT_OFFLINE)
        reasons.append(f"{stack}/{logical_id}: {why}")
    raise RefusedError(
        f"{target} does not admit {sender}'s {event.get('detail-type')!r} event: "
        + ("; ".join(reasons) or "the bus has no policy, so other accounts may not put events on it")
    )


def _refusal(statement: Mapping[str, Any], event: Mapping[str, Any], *, sender: str, bus: str) -> str | None:
    """Why ``statement`` does not admit the event, or None when it does."""
    principals = statement.get("Principal", {}).get("AWS", [])
    principals = [principals] if isinstance(principals, str) else principals
    if statement.get("Effect") != "Allow":
        return "not an Allow statement"
    if f"arn:{PARTITION}:iam::{sender}:root" not in principals and sender not in principals:
        return f"principal {sender} is not named ({', '.join(principals)})"
    if statement.get("Action") not in ("events:PutEvents", ["events:PutEvents"]):
        return f"action {statement.get('Action')!r} is not events:PutEvents"
    if statement.get("Resource") != bus:
        return f"resource {statement.get('Resource')!r} is not {bus}"
    condition = dict(statement.get("Condition") or {})
    equals = condition.pop("StringEquals", {})
    if condition:
        raise RefusedError(f"condition operators {sorted(condition)} are not evaluated offline")
    for key, allowed in equals.items():
        if key in _NOT_OFFLINE:
            continue
        if key not in _EVALUATED:
            raise RefusedError(f"condition key {key} is not evaluated offline")
        values = [allowed] if isinstance(allowed, str) else list(allowed)
        if event.get(_EVALUATED[key]) not in values:
            return f"{key} {event.get(_EVALUATED[key])!r} is not one of {values}"
    return None


def _transformed(event: Mapping[str, Any], target: Mapping[str, Any]) -> str | None:
    """The target's input text when the rule transforms the event (None: the event itself)."""
    if "Input" in target:
        return str(target["Input"])
    transformer = target.get("InputTransformer")
    if not transformer:
        return None
    parsed = EventTemplateParser.parse(
        input_template=transformer.get("InputTemplate"),
        input_paths_map=transformer.get("InputPathsMap", {}),
        # moto's parser reads the ingestion time (EventBridge's <aws.events.event.ingestion-time>).
        event={"ingestion-time": event.get("time", ""), **event},  # type: ignore[typeddict-item]
    )
    return parsed if isinstance(parsed, str) else json.dumps(parsed)
