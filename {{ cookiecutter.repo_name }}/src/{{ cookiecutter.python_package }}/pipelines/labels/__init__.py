"""Labels that arrive after scoring: joined to a batch's predictions, performance decay measured."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
