"""Training: a reproducible split of the validated data, the configured model, its evaluation."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
