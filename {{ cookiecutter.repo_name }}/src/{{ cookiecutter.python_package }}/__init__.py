"""The project package: pipelines, hooks, settings and datasets."""

__version__ = "0.1.0"
