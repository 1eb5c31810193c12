"""Constructs of one endpoint stage: the model and its role, rollback alarms, autoscaling."""
