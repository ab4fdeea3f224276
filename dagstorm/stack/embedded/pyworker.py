"""The embedded Spark's Python workers: a declared memory limit and the ``python_oom`` hook.

Every application submitted with the stack's ``spark-defaults.conf`` runs its
Python workers under ``spark.executor.pyspark.memory`` (PySpark's ``RLIMIT_AS``)
and through the daemon :mod:`dagstorm.stack.embedded.dagstorm_pyworker`, copied to
``<state>/spark/python/`` (on the ``PYTHONPATH`` of Spark's processes, which the
executors and their Python workers inherit). While a marker file
``<state>/faults/python/<application id>@<fault id>`` exists, that application's
Python workers run out of memory; with none, the daemon is PySpark's own.
docs/faults.md ("Python-worker OOM") says why this way.
"""

from __future__ import annotations

from pathlib import Path

from dagstorm.core.atomic import atomic_write
from dagstorm.stack.embedded import dagstorm_pyworker
from dagstorm.stack.embedded.layout import StateLayout

#: The daemon module Spark starts on each executor (``python -m …``).
DAEMON_MODULE = "dagstorm_pyworker"
#: The Python workers' declared memory (``spark.executor.pyspark.memory``): an address-space
#: limit (``RLIMIT_AS``), so it must leave room for what a worker maps without using it:
#: pandas and pyarrow (Arrow-optimised UDFs) take ~370 MB; under 256 MiB they fail to import.
PYTHON_WORKER_MEMORY = "1g"
#: The environment variable the daemon reads the marker directory from.
FAULTS_ENV = dagstorm_pyworker.FAULTS_ENV
#: Where the workers write what they did (under the marker directory).
HITS_DIR = dagstorm_pyworker.HITS_DIR


def python_dir(layout: StateLayout) -> Path:
    """The directory put on ``PYTHONPATH``: the daemon module alone."""
    return layout.spark_dir / "python"


def markers_dir(layout: StateLayout) -> Path:
    """The marker files (``<application id>@<fault id>``) the daemon looks for."""
    return layout.faults_dir / "python"


def marker_name(app_id: str, fault_id: str) -> str:
    """The marker that makes ``app_id``'s Python workers run out of memory."""
    return f"{app_id}@{fault_id}"


def spark_conf_lines(layout: StateLayout) -> list[str]:
    """spark-defaults.conf lines: the declared limit, the daemon, and where it and its markers are.

    The daemon's directory and the markers' go to the executors through the
    application's own conf too (``spark.executorEnv.*``, which Spark merges into the
    workers' ``PYTHONPATH``), so a conf that names the daemon always says where it is,
    even to a Spark worker started before the stack put them in its environment.
    """
    return [
        "# Python workers: a declared memory limit, and the daemon that can make them run",
        "# out of it for a `jvm` python_oom fault (docs/faults.md); PySpark's own otherwise.",
        f"spark.executor.pyspark.memory   {PYTHON_WORKER_MEMORY}",
        f"spark.python.daemon.module      {DAEMON_MODULE}",
        f"spark.executorEnv.PYTHONPATH    {python_dir(layout)}",
        f"spark.executorEnv.{FAULTS_ENV} {markers_dir(layout)}",
    ]


def env(layout: StateLayout) -> dict[str, str]:
    """What Spark's processes need for the daemon: its directory, the markers' directory."""
    return {"PYTHONPATH": str(python_dir(layout)), FAULTS_ENV: str(markers_dir(layout))}


def install_daemon(layout: StateLayout) -> Path:
    """Copy the daemon module into :func:`python_dir` (when it differs); its path."""
    source = Path(dagstorm_pyworker.__file__)
    target = python_dir(layout) / f"{DAEMON_MODULE}.py"
    target.parent.mkdir(parents=True, exist_ok=True)
    markers_dir(layout).mkdir(parents=True, exist_ok=True)
    body = source.read_bytes()
    if not target.exists() or target.read_bytes() != body:
        atomic_write(target, body)  # Spark's daemons prepare side by side: no shared temporary
    return target


def installed(layout: StateLayout, conf_text: str) -> bool:
    """Whether the daemon is in place and spark-defaults.conf names it."""
    return (python_dir(layout) / f"{DAEMON_MODULE}.py").exists() and any(
        line.split()[:2] == ["spark.python.daemon.module", DAEMON_MODULE]
        for line in conf_text.splitlines()
    )
