"""Run the synthesized SageMaker pipeline end to end on this machine (no Docker, no AWS account)."""
