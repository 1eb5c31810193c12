"""WSGI app of the contract tier's serving stack; runs in gunicorn under .venv-contract (Python 3.10).

Stands in for the SageMaker XGBoost image's ``sagemaker_xgboost_container/serving.py``
(``main`` and ``_user_module_transformer``, release-3.0.5 branch), which is not on PyPI. It
composes the same public toolkit API (``sagemaker_containers.beta.framework``) by the same
rules, so our user module is served as the image serves it:

- the user module is ``env.ServingEnv().module_name`` (SAGEMAKER_PROGRAM without ``.py``),
  imported in each gunicorn worker on its first request;
- ``transform_fn`` together with ``input_fn``/``predict_fn``/``output_fn`` is refused (the image
  raises ``UserError`` with this message);
- ``transform_fn`` -> ``transformer.Transformer(model_fn=..., transform_fn=...)``, else the
  three functions; the image's defaults for missing ones (XGBoost's own decoders and DMatrix
  predict, from the image's private package) are not reproduced: a module relying on them is
  refused here, by name;
- ``Transformer.initialize()`` (loads the model with ``model_fn``), then
  ``worker.Worker(transform_fn=transformer.transform, module_name=...)`` answers every request.

``OMP_NUM_THREADS=1`` unless set (the image's ``set_default_serving_env_if_unspecified``) is
applied by the launcher, ``toolkit_serve.py``, before gunicorn starts, as the image does.
"""

import importlib

from sagemaker_containers.beta.framework import env, transformer, worker


class UserError(Exception):
    """The image's sagemaker_algorithm_toolkit.exceptions.UserError, for the same misuse."""


_PIPELINE_FNS = ("input_fn", "predict_fn", "output_fn")


def user_module_transformer(user_module):  # type: ignore[no-untyped-def]
    """The toolkit Transformer for ``user_module``, by the image's rules."""
    model_fn = getattr(user_module, "model_fn", transformer.default_model_fn)
    transform_fn = getattr(user_module, "transform_fn", None)
    present = [name for name in _PIPELINE_FNS if getattr(user_module, name, None) is not None]
    if transform_fn and present:
        raise UserError("Cannot use transform_fn implementation with input_fn, predict_fn, and/or output_fn")
    if transform_fn is not None:
        return transformer.Transformer(model_fn=model_fn, transform_fn=transform_fn)
    missing = [name for name in _PIPELINE_FNS if name not in present]
    if missing:
        raise UserError(f"the contract tier has no stand-in for the image's default {', '.join(missing)}")
    return transformer.Transformer(
        model_fn=model_fn,
        input_fn=user_module.input_fn,
        predict_fn=user_module.predict_fn,
        output_fn=user_module.output_fn,
    )


app = None


def main(environ, start_response):  # type: ignore[no-untyped-def]
    """The WSGI callable gunicorn serves (``toolkit_serving:main``)."""
    global app  # noqa: PLW0603 - one app per worker process, built on its first request, as the image does
    if app is None:
        serving_env = env.ServingEnv()
        user_module = importlib.import_module(serving_env.module_name)
        user_transformer = user_module_transformer(user_module)
        user_transformer.initialize()
        app = worker.Worker(transform_fn=user_transformer.transform, module_name=serving_env.module_name)
    return app(environ, start_response)
