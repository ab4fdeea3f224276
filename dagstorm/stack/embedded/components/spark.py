"""Spark 4 standalone (master, worker, history server) from the pyspark package."""

from __future__ import annotations

import sys
from string import Template
from typing import Any

import httpx

from dagstorm.core.atomic import atomic_write
from dagstorm.stack.embedded import byteman, pyworker
from dagstorm.stack.embedded.components.base import Component, Health
from dagstorm.stack.embedded.context import StackContext


def spark_env(ctx: StackContext) -> dict[str, str]:
    """Environment for spark-class and spark-submit: every directory under the state dir."""
    spark = ctx.layout.spark_dir
    env = {
        **ctx.base_env(),
        "SPARK_HOME": str(ctx.spark_home),
        "SPARK_CONF_DIR": str(ctx.layout.spark_conf_dir),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_PID_DIR": str(spark / "pids"),
        "SPARK_LOG_DIR": str(ctx.layout.logs_dir),
        "SPARK_WORKER_DIR": str(spark / "work"),
        "SPARK_LOCAL_DIRS": str(spark / "local"),
        "SPARK_DAEMON_MEMORY": "384m",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        # The Python-worker daemon (spark-defaults.conf names it): every process that
        # can start Python workers — executors, and drivers in local mode — finds it.
        **pyworker.env(ctx.layout),
    }
    if byteman_loaded(ctx):
        # Spark's launchers run $JAVA_HOME/bin/java: the one that fills in the agent's port.
        env["JAVA_HOME"] = str(ctx.layout.spark_java_home)
    return env


def byteman_loaded(ctx: StackContext) -> bool:
    """Whether the stack loads the Byteman agent into Spark's JVMs (it is installed)."""
    return ctx.layout.byteman_jar.exists()


def render_spark_conf(ctx: StackContext) -> None:
    """Write spark-defaults.conf and create Spark's directories."""
    spark = ctx.layout.spark_dir
    for sub in ("conf", "pids", "work", "local", "events", "ivy"):
        (spark / sub).mkdir(parents=True, exist_ok=True)
    template = Template(
        (ctx.project_root / "stack" / "spark" / "spark-defaults.conf.template").read_text()
    )
    values = {
        "event_dir": str(ctx.layout.spark_event_dir),
        "spark_history": str(ctx.config.ports.spark_history),
        "ivy_dir": str(spark / "ivy"),
    }
    text = template.substitute(values)
    pyworker.install_daemon(ctx.layout)
    text = text.rstrip("\n") + "\n" + "\n".join(pyworker.spark_conf_lines(ctx.layout)) + "\n"
    if byteman_loaded(ctx):
        byteman.write_java_home(ctx.layout.spark_java_home, ctx.java_home)
        text = (
            text.rstrip("\n") + "\n" + "\n".join(byteman.spark_conf_lines(ctx.layout.byteman_jar))
        )
        text += "\n"
    # Master, worker and history server render it side by side, and a JVM may be reading
    # it meanwhile: each write is whole, under a temporary name of its own.
    atomic_write(ctx.layout.spark_conf_dir / "spark-defaults.conf", text)


def master_state(ctx: StackContext) -> dict[str, Any] | None:
    """The master's /json/ document, or None if it does not answer."""
    try:
        response = httpx.get(
            f"http://127.0.0.1:{ctx.config.ports.spark_master_ui}/json/", timeout=3.0
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body
    except (httpx.HTTPError, ValueError):
        return None


class _SparkDaemon(Component):
    """A daemon started with spark-class (which execs the JVM: the pid is Java's)."""

    main_class = ""

    def _spark_class(self) -> str:
        return str(self.ctx.spark_home / "bin" / "spark-class")

    def env(self) -> dict[str, str]:
        """Spark's environment."""
        return spark_env(self.ctx)

    def prepare(self) -> None:
        """spark-defaults.conf and directories."""
        render_spark_conf(self.ctx)

    def version(self) -> str:
        """Pyspark's version (the distribution's)."""
        version_file = self.ctx.spark_home / "version.py"
        for line in version_file.read_text().splitlines() if version_file.exists() else []:
            if line.startswith("__version__"):
                return line.split("=", 1)[1].strip().strip("\"'")
        return "?"


class SparkMaster(_SparkDaemon):
    """The standalone master."""

    name = "spark-master"
    start_timeout = 60.0

    def argv(self) -> list[str]:
        """Master on loopback."""
        ports = self.ctx.config.ports
        return [
            self._spark_class(),
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(ports.spark_master),
            "--webui-port",
            str(ports.spark_master_ui),
            "--properties-file",
            str(self.ctx.layout.spark_conf_dir / "spark-defaults.conf"),
        ]

    def health(self) -> Health:
        """Master /json/ says ALIVE."""
        state = master_state(self.ctx)
        if state is None:
            return Health(False, "master /json/ does not answer")
        status = str(state.get("status", "?"))
        return Health(status == "ALIVE", status)

    def url(self) -> str:
        """The master URL."""
        return f"spark://127.0.0.1:{self.ctx.config.ports.spark_master}"


class SparkWorker(_SparkDaemon):
    """One worker with configurable cores and memory."""

    name = "spark-worker"
    depends_on = ("spark-master",)
    start_timeout = 60.0

    def argv(self) -> list[str]:
        """Worker registered with our master."""
        ports = self.ctx.config.ports
        return [
            self._spark_class(),
            "org.apache.spark.deploy.worker.Worker",
            "--host",
            "127.0.0.1",
            "--cores",
            str(self.ctx.config.spark.worker_cores),
            "--memory",
            self.ctx.config.spark.worker_memory,
            "--webui-port",
            str(ports.spark_worker_ui),
            "--work-dir",
            str(self.ctx.layout.spark_dir / "work"),
            "--properties-file",
            str(self.ctx.layout.spark_conf_dir / "spark-defaults.conf"),
            f"spark://127.0.0.1:{ports.spark_master}",
        ]

    def health(self) -> Health:
        """The master lists this worker as ALIVE."""
        state = master_state(self.ctx)
        if state is None:
            return Health(False, "master /json/ does not answer")
        port = str(self.ctx.config.ports.spark_worker_ui)
        for worker in state.get("workers", []):
            address = str(worker.get("webuiaddress", ""))
            if address.endswith(f":{port}") and worker.get("state") == "ALIVE":
                return Health(True, f"{worker.get('cores')} cores, {worker.get('memory')} MB")
        return Health(False, "not registered with the master")

    def url(self) -> str:
        """Worker web UI."""
        return f"http://127.0.0.1:{self.ctx.config.ports.spark_worker_ui}"


class SparkHistory(_SparkDaemon):
    """The history server: keeps finished applications' executors and stages."""

    name = "spark-history"
    start_timeout = 60.0

    def argv(self) -> list[str]:
        """History server reading the event-log directory."""
        return [
            self._spark_class(),
            "org.apache.spark.deploy.history.HistoryServer",
            "--properties-file",
            str(self.ctx.layout.spark_conf_dir / "spark-defaults.conf"),
        ]

    def health(self) -> Health:
        """GET /api/v1/applications."""
        try:
            response = httpx.get(f"{self.url()}/api/v1/applications?limit=1", timeout=3.0)
        except httpx.HTTPError as exc:
            return Health(False, exc.__class__.__name__)
        return Health(response.status_code == 200, f"HTTP {response.status_code}")

    def url(self) -> str:
        """History server UI and REST API."""
        return f"http://127.0.0.1:{self.ctx.config.ports.spark_history}"
