"""The Python workers of a Spark run: the processes that run Python code on Spark's rows.

Stages whose Spark code runs Python on the rows (the scoring UDF, monitoring's counts per chunk)
call ``use_this_python_for_workers`` first. Nothing here imports pyspark.
"""

import logging
import os
import sys
from typing import Any

logger = logging.getLogger(__name__)


def use_this_python_for_workers(spark: Any) -> None:
    """On a local master, run the Python workers (the scoring UDF) with this environment's python.

    PySpark starts its workers with ``$PYSPARK_PYTHON``, else ``python3`` from PATH, which need not
    be the project's environment (no pandas, no MLflow, no scikit-learn). A local master's workers
    run on this machine, so this interpreter is the right one; a cluster's workers need their own
    (set ``PYSPARK_PYTHON`` where the executors run).
    """
    context = spark.sparkContext
    if "PYSPARK_PYTHON" in os.environ or not context.master.startswith("local"):
        return
    if context.pythonExec != sys.executable:
        logger.info("Spark's Python workers use %s (PYSPARK_PYTHON is not set).", sys.executable)
        context.pythonExec = sys.executable
