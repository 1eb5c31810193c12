"""The SageMaker training pipeline as code: definition, source bundle, execution role.

The definition JSON is written here (``steps``, ``expressions``) without the SageMaker SDK, whose
import alone would cost seconds of every synth; a test holds it to what the SDK would compile.
"""
