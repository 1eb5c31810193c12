"""Every encrypted log group's key lets CloudWatch Logs use it; otherwise creating the log group
fails at deploy time (CloudWatch Logs checks the key policy), which no synth-time check catches."""

from __future__ import annotations

import json
from typing import Any

from platform_synth import SynthesizedPlatform, resources


def _allows_logs(key: dict[str, Any]) -> bool:
    return any(
        "logs." in json.dumps(s.get("Principal", {})) and s["Effect"] == "Allow"
        for s in key["Properties"]["KeyPolicy"]["Statement"]
    )


def test_every_encrypted_log_group_uses_a_key_cloudwatch_logs_may_use(
    synthesized: SynthesizedPlatform,
) -> None:
    (data_key,) = resources(synthesized.raw["data"], "AWS::KMS::Key").values()
    assert _allows_logs(data_key)
    checked = 0
    for stack, template in synthesized.raw.items():
        for logical_id, group in resources(template, "AWS::Logs::LogGroup").items():
            key_ref = group["Properties"].get("KmsKeyId")
            if key_ref is None:
                continue
            checked += 1
            where = f"{stack}/{logical_id}"
            if "Fn::GetAtt" in key_ref:  # a key of the same stack
                key = template["Resources"][key_ref["Fn::GetAtt"][0]]
                assert _allows_logs(key), f"{where}: its key's policy does not allow CloudWatch Logs"
            else:  # a cross-stack reference: must be the data key
                assert "DataKeyArn" in json.dumps(key_ref), f"{where}: encrypted with {key_ref}"
    assert checked >= 5  # flow logs, the functions' logs, ...
