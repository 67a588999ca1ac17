"""Release: the model card of the run, then promotion of its model when every gate passed."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
