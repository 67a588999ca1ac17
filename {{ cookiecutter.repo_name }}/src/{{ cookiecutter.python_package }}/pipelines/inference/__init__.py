"""Inference: score a batch of new applications with the candidate model."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
