"""Constructs of an endpoint stage in another account (wired by :mod:`stacks.stage_base_stack`).

``smoke_role`` (the one role the tooling account's deploy build may assume there: it may only
invoke the stage's endpoint); ``alert_topic`` (the stage's encrypted topic: the forwarding's dead-letter
alarm notifies it; the endpoint's alarms reach the team's topic through the forwarding). The
stage's key and buckets are the data stack's constructs (:mod:`stacks.data`).
``alarm_forwarding`` sends the stage's alarms to the tooling account's bus.
``monitoring_stack`` is the stage's drift check there, ``<prefix>-<stage>-monitoring`` (wired by
:mod:`stacks.stage_account`).
"""
