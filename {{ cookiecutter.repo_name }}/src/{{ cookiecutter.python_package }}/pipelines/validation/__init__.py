"""Validation: Great Expectations suites from configuration, row quarantine, a quality gate."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
