"""SageMaker Studio (wired by :mod:`stacks.studio_stack`).

``domain`` (the VpcOnly domain and user profiles); ``persona_roles`` with ``persona_props``,
``persona_sagemaker`` and ``persona_statements`` (one execution role per persona);
``acknowledgements`` (the cdk-nag reasons for their wildcards).
"""
