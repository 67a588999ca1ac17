"""Loaded by ``kedro`` before the plugins' commands (entry point ``kedro.cli_hooks``).

kedro-mlflow's CLI plugin (2.0.3) imports its ``KedroPipelineModel``, a PythonModel without
type hints, at every ``kedro`` command, and MLflow warns "Add type hints to the `predict`
method" as the class is defined, before the project's settings are read. MLflow raises it under
its own ``once`` filter, so no warnings filter can hide it: this module does that same import
first and drops that one message for that import alone. The warning still shows for any other
model; the project's own served model has type hints (serving_model.py). It registers no hook.
"""

import warnings

TYPE_HINTS_WARNING = "Add type hints to the `predict` method"

with warnings.catch_warnings():  # restores warnings.showwarning when the import is done
    shown = warnings.showwarning

    # warnings.showwarning's own signature
    def _all_but_type_hints(message, category, filename, lineno, file=None, line=None):  # noqa: PLR0917
        if TYPE_HINTS_WARNING not in str(message):
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = _all_but_type_hints
    # The import kedro-mlflow's CLI plugin does next anyway: no start-up cost of its own.
    import kedro_mlflow.mlflow.kedro_pipeline_model  # noqa: F401
