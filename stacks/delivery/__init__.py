"""Delivery constructs: source, build and deploy pipelines, approval rule, retraining schedule.

``commands`` holds every command the builds run; ``events`` the approval pattern (a plain dict);
``role_policies`` what each build role may do; ``acknowledgements`` the cdk-nag reasons.
"""
