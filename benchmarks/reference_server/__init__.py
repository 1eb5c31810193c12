"""The baseline our server is measured against: SageMaker's bring-your-own-container way."""
