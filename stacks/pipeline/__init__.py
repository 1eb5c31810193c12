"""The SageMaker training pipeline as code: definition, source bundle and image lookup.

Import cost: the SageMaker SDK takes a few seconds to import, so ``stacks.pipeline`` exposes its
submodules lazily; only ``definition`` (and ``sdk``) pull the SDK in.
"""
