"""Benchmarking: the candidate against simple baselines on the same repeated CV folds."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
