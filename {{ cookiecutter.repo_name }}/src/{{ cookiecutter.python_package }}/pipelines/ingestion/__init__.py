"""Ingestion: raw application and credit-bureau sources -> one typed primary table."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
