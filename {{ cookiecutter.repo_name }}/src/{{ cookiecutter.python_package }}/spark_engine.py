"""The Spark engine: the session behind ``kedro run --env spark`` and what the stages share on it.

Nothing here imports pyspark at module level: the default (pandas) install has no JVM and no
pyspark, and only the ``spark`` environment (``conf/spark/``) starts a session. Each stage's node
hands a Spark DataFrame to its stage's ``spark.py``; the configuration is the same for both
engines.
"""

import logging
import os
import re
import shutil
import socket
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .errors import ConfigError

logger = logging.getLogger(__name__)

SPARK_CONFIG = "conf/spark/spark.yml"
JAVA_PACKAGE = "openjdk-17-jre-headless"
JDBC_PACKAGE = "libxerial-sqlite-jdbc-java"
# How long a standalone master (spark://host:port) may take to answer before the run stops.
MASTER_CONNECT_TIMEOUT_S = 10.0
# monotonically_increasing_id() puts the partition id in the upper 31 bits of the 64.
_PARTITION_SHIFT = 33


def is_spark_frame(data: Any) -> bool:
    """True for a Spark DataFrame (classic or Connect), without importing pyspark."""
    return type(data).__module__.startswith("pyspark.")


def java_executable() -> str | None:
    """The ``java`` Spark will start: ``$JAVA_HOME/bin/java``, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def check_spark_prerequisites(settings: dict[str, Any]) -> None:
    """Refuse, in one line each, what would otherwise fail deep inside the JVM or hang."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is None:
        raise ConfigError(
            "The spark environment needs pyspark: install the project with `uv sync --extra spark`."
        )
    if java_executable() is None:
        raise ConfigError(
            f"The spark environment needs Java 17: install {JAVA_PACKAGE} (apt-get install "
            f"{JAVA_PACKAGE}) or set JAVA_HOME."
        )
    for listed in str(settings.get("spark.jars") or "").split(","):
        jar = listed.strip()
        if jar and "://" not in jar and not Path(jar).is_file():
            hint = f" (Debian/Ubuntu: apt-get install {JDBC_PACKAGE})" if "sqlite" in jar else ""
            raise ConfigError(
                f"spark.jars in {SPARK_CONFIG} names {jar}, which does not exist{hint}."
            )
    check_master_reachable(str(settings.get("spark.master") or "local[*]"))


def check_master_reachable(master: str, timeout: float = MASTER_CONNECT_TIMEOUT_S) -> None:
    """Stop at once, naming the URL, when a standalone master (spark://) does not answer.

    Spark itself retries the registration for minutes before it gives up.
    """
    if not master.startswith("spark://"):
        return
    hosts = master.removeprefix("spark://").split(",")
    problems = []
    for host in hosts:
        parsed = urlparse(f"spark://{host}")
        try:
            with socket.create_connection((parsed.hostname, parsed.port or 7077), timeout):
                return
        except OSError as error:
            problems.append(f"{host}: {error}")
    raise ConfigError(
        f"The Spark master {master} (spark.master in {SPARK_CONFIG}) cannot be reached within "
        f"{timeout:.0f} s ({'; '.join(problems)}). Start the cluster, or point spark.master at "
        "one that runs."
    )


def _on_this_machine(master: str) -> bool:
    """A local master, or a standalone master on the loopback interface."""
    if master.startswith("local") or master == "None":
        return True
    hosts = master.removeprefix("spark://").split(",") if master.startswith("spark://") else []
    return bool(hosts) and all(
        urlparse(f"spark://{h}").hostname in ("127.0.0.1", "localhost") for h in hosts
    )


def start_spark_session(settings: dict[str, Any], app_name: str) -> Any:
    """The session every Spark dataset and node of the run uses, configured from spark.yml."""
    check_spark_prerequisites(settings)
    # Without this, Spark binds to the machine's external address even for local[*].
    host = settings.get("spark.driver.host")
    if host:
        os.environ.setdefault("SPARK_LOCAL_IP", str(host))
    # Python workers (the scoring UDF, monitoring's counts) start $PYSPARK_PYTHON, else python3
    # from PATH, which need not have this environment's packages. On this machine (a local or a
    # loopback master) this interpreter is the right one; a remote cluster's executors need
    # their own: set spark.pyspark.python in spark.yml, or PYSPARK_PYTHON where they run.
    if "spark.pyspark.python" not in settings and _on_this_machine(
        str(settings.get("spark.master"))
    ):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    start = time.perf_counter()
    conf = SparkConf().setAll([(str(k), str(v)) for k, v in settings.items()])
    session = SparkSession.builder.appName(app_name).config(conf=conf).getOrCreate()
    session.sparkContext.setLogLevel(str(settings.get("spark.log.level", "WARN")))
    logger.info(
        "Spark %s session on %s started in %.1f s.",
        session.version,
        session.sparkContext.master,
        time.perf_counter() - start,
    )
    return session


def spark_column_names(frame: Any) -> list[str]:
    """Column names as ingestion normalises them (see ``columns.normalised_name``)."""
    from .columns import normalised_name

    return [normalised_name(c) for c in frame.columns]


def normalise_spark_columns(frame: Any) -> Any:
    """The frame with normalised column names (``Hours per week`` -> ``hours_per_week``)."""
    return frame.toDF(*spark_column_names(frame))


def with_row_position(frame: Any, column: str) -> Any:
    """``frame`` with ``column`` first: each row's position in it, 0 to n-1, in file order.

    Computed in Spark: one small job counts the rows of each partition, and each row's position
    is its partition's offset plus its place in the partition. Nothing is collected but the
    counts, and the partitions of a file source are the same on both passes.
    """
    from pyspark.sql import functions as F

    tagged = frame.withColumn("__partition", F.spark_partition_id()).withColumn(
        "__id", F.monotonically_increasing_id()
    )
    counts = {row[0]: row[1] for row in tagged.groupBy("__partition").count().collect()}
    offsets: list[Any] = []
    total = 0
    for partition in sorted(counts):
        offsets += [F.lit(partition), F.lit(total)]
        total += counts[partition]
    offset = F.create_map(*offsets)[F.col("__partition")] if offsets else F.lit(0)
    within = F.col("__id") - F.col("__partition").cast("long") * F.lit(1 << _PARTITION_SHIFT)
    position = (offset.cast("long") + within).alias(column)
    return tagged.select(position, *(F.col(f"`{c}`") for c in frame.columns))


def quoted(column: str) -> Any:
    """A column reference that survives dots and spaces in its name."""
    from pyspark.sql import functions as F

    return F.col(f"`{column}`")


def digest_of_spark_frame(frame: Any) -> tuple[str, int]:
    """An order-independent content digest of a Spark DataFrame, and its row count (one job).

    The schema and the sum of every row's 64-bit hash: equal tables give equal digests on any
    partitioning. (Not the pandas digest: the engines store types differently.)
    """
    import hashlib

    from pyspark.sql import functions as F

    row_hash = F.xxhash64(*(quoted(c) for c in frame.columns)).cast("decimal(38,0)")
    total, rows = frame.select(F.sum(row_hash), F.count(F.lit(1))).first()
    text = re.sub(r"\s+", "", frame.schema.simpleString()) + f"|{total}|{rows}"
    return hashlib.sha256(text.encode()).hexdigest(), int(rows)
