"""The code SageMaker runs: pipeline steps and the model server."""
