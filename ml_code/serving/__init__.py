"""The model server's code: the handlers the SageMaker image serves, and `make serve`."""
