"""Constructs of one endpoint stage, one concern each (wired by :mod:`stacks.endpoint_stack`).

``model`` (the approved package, isolated in the VPC) with ``execution_role``; ``serving_config``
(variant, KMS, data capture); ``alarms`` (5xx and latency, actions enabled); ``guarded_endpoint``
(blue/green updates rolling back on those alarms); ``autoscaling`` (target tracking);
``idle_alarm`` (no invocations for N days, a spend alert). :mod:`contracts.names` names the
endpoint and, with ``create_only``, the fingerprinted model and endpoint config of a version.
"""
