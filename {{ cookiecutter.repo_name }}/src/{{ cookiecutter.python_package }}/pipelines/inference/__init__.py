"""Inference: score a batch of new rows with the model in use."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
