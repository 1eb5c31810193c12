"""The SageMaker training pipeline as code: definition, source bundle, image lookup, execution role.

Only ``definition`` (through ``sdk``) imports the SageMaker SDK, which takes a few seconds.
"""
