"""The drift check, run as a SageMaker processing job on captured traffic."""
