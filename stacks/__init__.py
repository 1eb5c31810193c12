"""CDK stacks and constructs of the SageMaker MLOps platform."""
