"""Delivery constructs: the commands builds run, the approval event pattern, the pipelines' roles."""
