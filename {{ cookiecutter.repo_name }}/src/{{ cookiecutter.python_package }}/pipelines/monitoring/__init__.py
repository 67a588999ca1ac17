"""Monitoring: drift, performance decay and fairness drift of a scored batch, with alerts."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
