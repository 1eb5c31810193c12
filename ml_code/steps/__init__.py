"""The pipeline's steps, run in SageMaker processing and training jobs (preprocess, train, evaluate)."""
