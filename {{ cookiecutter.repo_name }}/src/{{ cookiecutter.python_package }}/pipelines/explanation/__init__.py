"""Explanation: what drives the model's predictions and where it is wrong."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
