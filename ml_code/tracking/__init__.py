"""Experiment tracking: MLflow's REST API over stdlib urllib (SigV4 for a SageMaker tracking server),
artifact upload, and what the Track step logs from the pipeline's reports. No ``mlflow`` package:
the XGBoost image has none, and this runs there."""
