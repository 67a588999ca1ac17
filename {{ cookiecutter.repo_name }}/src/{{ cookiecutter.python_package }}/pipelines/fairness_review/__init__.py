"""Fairness review: metrics by group with intervals, a verdict, proxies, mitigation."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
