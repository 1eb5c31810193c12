"""The shadow variant of prod's endpoint config: a challenger served beside the production variant.

SageMaker sends every request to the production variant, which alone answers, and copies a sample
of them to the shadow variant (``ShadowProductionVariants``: one production and one shadow variant
at most). The sample is set by the shadow's ``InitialVariantWeight`` relative to the production
variant's, which is 1.0 here: ``samplingPercent`` 50 is weight 0.5. Data capture is a property of
the endpoint config, so both variants are captured, each under its own variant folder
(``data-capture/<endpoint>/<variant>/...``), which is what the shadow report pairs.

Rollout: an update to a config with a shadow leaves the production variant's model as it was
(the shadow is what changes), so it shifts traffic all at once (still blue/green, still baked and
rolled back on the alarms; :func:`stacks.endpoint.guarded_endpoint.deployment_config`): a canary
would compare the production model with itself. The update that promotes the challenger (the
approved model without ``shadow``) changes the production model and keeps the stage's rollout.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import aws_sagemaker as sagemaker

from contracts.config import ShadowConfig

#: The shadow variant's name (its captured data lands under ``<endpoint>/Shadow/``).
SHADOW_VARIANT: Final = "Shadow"
#: The production variant's weight; the shadow's weight relative to it is the sampled share.
PRODUCTION_WEIGHT: Final = 1.0


def sampling_weight(shadow: ShadowConfig) -> float:
    """The shadow's ``InitialVariantWeight``: ``samplingPercent`` of the production weight."""
    return PRODUCTION_WEIGHT * shadow.sampling_percent / 100


def shadow_variant(
    shadow: ShadowConfig, model_name: str
) -> sagemaker.CfnEndpointConfig.ProductionVariantProperty:
    """The ``ShadowProductionVariants`` entry serving ``model_name``."""
    return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
        variant_name=SHADOW_VARIANT,
        model_name=model_name,
        instance_type=shadow.instance_type,
        initial_instance_count=shadow.instance_count,
        initial_variant_weight=sampling_weight(shadow),
    )


def shadow_variant_values(shadow: ShadowConfig, model_name: str | None) -> dict[str, object]:
    """What :func:`shadow_variant` renders, in CloudFormation's names (for the fingerprint)."""
    return {
        "VariantName": SHADOW_VARIANT,
        "ModelName": model_name,
        "InstanceType": shadow.instance_type,
        "InitialInstanceCount": shadow.instance_count,
        "InitialVariantWeight": sampling_weight(shadow),
    }
