"""Monitoring constructs: the drift-check pipeline, its schedule, alarms, retraining trigger, dashboards."""
