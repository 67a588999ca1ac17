"""Ingestion: the configured sources (a main table, related tables) -> one typed primary table."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
