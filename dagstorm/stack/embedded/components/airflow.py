"""Airflow 3 in its own virtualenv: api-server, scheduler, dag-processor, triggerer."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from dagstorm.core.boot_clock import wall_time_of
from dagstorm.core.errors import ComponentStartError
from dagstorm.stack.credentials import write_secret_file
from dagstorm.stack.embedded.components.base import Component, Health
from dagstorm.stack.embedded.components.postgres import AIRFLOW_DB
from dagstorm.stack.embedded.components.spark import spark_env
from dagstorm.stack.embedded.components.toxiproxy import Toxiproxy
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.hosts.lifecycle import bring_up
from dagstorm.stack.embedded.hosts.links import worker_env
from dagstorm.stack.embedded.hosts.namespaces import can_make_namespaces, exec_prefix
from dagstorm.stack.embedded.hosts.plan import HostPlan, plan_host
from dagstorm.stack.embedded.processes import PidRecord, spawn, tail
from dagstorm.stack.topology import worker_name

PASSWORDS_FILE = "airflow-passwords.json"
#: ``airflow.executor`` → Airflow's executor (``core.executor``, set by ``_executor_env``).
EXECUTORS = {"local": "LocalExecutor", "celery": "CeleryExecutor"}


def executor_name(ctx: StackContext) -> str:
    """The executor the embedded scheduler runs (``core.executor``); ``run_start`` names it."""
    return EXECUTORS[ctx.config.airflow.executor]


def airflow_env(ctx: StackContext) -> dict[str, str]:
    """The environment every Airflow process (and `airflow` CLI call) runs with."""
    creds = ctx.credentials
    ports = ctx.config.ports
    settings = ctx.config.airflow
    venv_bin = ctx.layout.airflow_venv / "bin"
    spark = spark_env(ctx)
    db_url = (
        f"postgresql+psycopg2://{creds.airflow_db_user}:{creds.airflow_db_password}"
        f"@127.0.0.1:{ports.airflow_db}/{AIRFLOW_DB}"
    )
    return {
        **spark,
        **_executor_env(ctx),
        # spark-submit (full pyspark) on PATH for SparkSubmitOperator; Airflow's venv first.
        "PATH": os.pathsep.join(
            [str(venv_bin), str(ctx.spark_home / "bin"), spark.get("PATH", "")]
        ),
        "AIRFLOW_HOME": str(ctx.layout.airflow_home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ctx.dags_folder),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__PARALLELISM": str(settings.parallelism),
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(settings.max_active_tasks_per_dag),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": (
            f"http://127.0.0.1:{ports.airflow_api_server}/execution/"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{creds.airflow_admin_user}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(
            ctx.layout.secrets_dir / PASSWORDS_FILE
        ),
        "AIRFLOW__CORE__FERNET_KEY": creds.airflow_fernet_key,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(ports.airflow_api_server),
        "AIRFLOW__API__WORKERS": str(settings.api_workers),
        "AIRFLOW__API__SECRET_KEY": creds.airflow_api_secret_key,
        "AIRFLOW__API_AUTH__JWT_SECRET": creds.airflow_jwt_secret,
        "AIRFLOW__METRICS__STATSD_ON": "True",
        "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
        "AIRFLOW__METRICS__STATSD_PORT": str(ports.statsd),
        "AIRFLOW__METRICS__STATSD_PREFIX": "airflow",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "20",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(ctx.layout.airflow_home / "logs"),
        "DAGSTORM_LANDING_DIR": str(ctx.layout.landing_dir),
        "PYTHONUNBUFFERED": "1",
    }


def _executor_env(ctx: StackContext) -> dict[str, str]:
    """The executor's settings: LocalExecutor, or CeleryExecutor through the proxies."""
    settings = ctx.config.airflow
    timeout = settings.task_heartbeat_timeout_s
    heartbeat = (
        {}
        if timeout is None
        else {"AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(timeout)}
    )
    if settings.executor == "local":
        return {"AIRFLOW__CORE__EXECUTOR": "LocalExecutor", **heartbeat}
    creds, ports = ctx.credentials, ctx.config.ports
    return {
        **heartbeat,
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        # The broker through the celery-broker link, so a network fault reaches it.
        "AIRFLOW__CELERY__BROKER_URL": (
            f"redis://:{creds.redis_password}@127.0.0.1:{ports.celery_broker}/0"
        ),
        # Task states through the airflow-db link, like every other Airflow component.
        "AIRFLOW__CELERY__RESULT_BACKEND": (
            f"db+postgresql://{creds.airflow_db_user}:{creds.airflow_db_password}"
            f"@127.0.0.1:{ports.airflow_db}/{AIRFLOW_DB}"
        ),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(ctx.config.celery.concurrency),
    }


def api_base(ctx: StackContext) -> str:
    """The api-server itself (not through the airflow-api proxy)."""
    return f"http://127.0.0.1:{ctx.config.ports.airflow_api_server}"


def health_document(ctx: StackContext) -> dict[str, Any] | None:
    """GET /api/v2/monitor/health (needs no auth), or None."""
    try:
        response = httpx.get(f"{api_base(ctx)}/api/v2/monitor/health", timeout=3.0)
        if response.status_code != 200:
            return None
        body: dict[str, Any] = response.json()
        return body
    except (httpx.HTTPError, ValueError):
        return None


class _AirflowProcess(Component):
    """A long-running `airflow <subcommand>` process."""

    subcommand: tuple[str, ...] = ()
    #: Key of this component in the health document.
    health_key = ""

    def _airflow(self) -> str:
        return str(self.ctx.layout.airflow_venv / "bin" / "airflow")

    def argv(self) -> list[str]:
        """`airflow <subcommand>`."""
        return [self._airflow(), *self.subcommand]

    def env(self) -> dict[str, str]:
        """Airflow's environment."""
        return airflow_env(self.ctx)

    def health(self) -> Health:
        """Healthy in /monitor/health, with a heartbeat from after our start."""
        doc = health_document(self.ctx)
        if doc is None:
            return Health(False, "api-server /api/v2/monitor/health does not answer")
        part = doc.get(self.health_key) or {}
        status = str(part.get("status", "unknown"))
        if status != "healthy":
            return Health(False, f"{self.health_key}: {status}")
        beat = next((v for k, v in part.items() if k.startswith("latest_") and v), None)
        record = self.running()
        if beat and record is not None:
            seen = datetime.fromisoformat(str(beat)).timestamp()
            began = record.create_time if record.started is None else wall_time_of(record.started)
            if seen < began - 1.0:
                return Health(
                    False, f"{self.health_key}: waiting for a heartbeat of the new process"
                )
        return Health(True, status)

    def version(self) -> str:
        """The installed apache-airflow distribution's version."""
        site = self.ctx.layout.airflow_venv / "lib"
        for dist in site.glob("python3*/site-packages/apache_airflow-*.dist-info"):
            return dist.name.removeprefix("apache_airflow-").removesuffix(".dist-info")
        return "?"

    def url(self) -> str:
        """Through the airflow-api proxy (what users and dagstorm use)."""
        return f"http://127.0.0.1:{self.ctx.config.ports.airflow_api}"


class AirflowApiServer(_AirflowProcess):
    """REST API + UI + the execution API tasks call."""

    name = "airflow-api-server"
    depends_on: tuple[str, ...] = ("postgres", "toxiproxy")
    subcommand = ("api-server",)
    start_timeout = 120.0

    def prepare(self) -> None:
        """Passwords file (0600) and `airflow db migrate` (idempotent)."""
        home = self.ctx.layout.airflow_home
        home.mkdir(parents=True, exist_ok=True)
        self.ctx.dags_folder.mkdir(parents=True, exist_ok=True)
        self.ctx.layout.landing_dir.mkdir(parents=True, exist_ok=True)
        creds = self.ctx.credentials
        write_secret_file(
            self.ctx.layout.secrets_dir / PASSWORDS_FILE,
            json.dumps({creds.airflow_admin_user: creds.airflow_admin_password}),
        )
        log = self.ctx.layout.log("airflow-db-migrate")
        with log.open("ab") as out:
            result = subprocess.run(
                [self._airflow(), "db", "migrate"],
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
                timeout=600,
            )
        if result.returncode != 0:
            raise ComponentStartError(
                "airflow-api-server",
                f"`airflow db migrate` exited {result.returncode}",
                log_path=str(log),
                log_tail=tail(log),
                fix="check that PostgreSQL answers through the airflow-db proxy",
            )

    def health(self) -> Health:
        """The health document answers and the metadata DB is healthy."""
        doc = health_document(self.ctx)
        if doc is None:
            return Health(False, "api-server /api/v2/monitor/health does not answer")
        status = str((doc.get("metadatabase") or {}).get("status", "unknown"))
        return Health(status == "healthy", f"metadatabase: {status}")


class AirflowScheduler(_AirflowProcess):
    """The scheduler with LocalExecutor or CeleryExecutor (no log server: it binds 0.0.0.0)."""

    name = "airflow-scheduler"
    depends_on: tuple[str, ...] = ("airflow-api-server",)
    subcommand = ("scheduler", "--skip-serve-logs")
    health_key = "scheduler"

    def __init__(self, ctx: StackContext) -> None:
        super().__init__(ctx)
        if ctx.config.airflow.executor == "celery":  # it sends tasks to the broker
            self.depends_on = (*self.depends_on, "redis")


class AirflowDagProcessor(_AirflowProcess):
    """Parses the DAGs folder."""

    name = "airflow-dag-processor"
    depends_on = ("airflow-api-server",)
    subcommand = ("dag-processor",)
    health_key = "dag_processor"


class AirflowTriggerer(_AirflowProcess):
    """Runs deferred tasks (deferrable sensors)."""

    name = "airflow-triggerer"
    depends_on = ("airflow-api-server",)
    subcommand = ("triggerer", "--skip-serve-logs")
    health_key = "triggerer"


class AirflowCeleryWorker(_AirflowProcess):
    """``airflow celery worker`` number ``index``: runs the tasks CeleryExecutor queues.

    Its Celery node name is ``worker<index>@dagstorm`` (task instances record the
    machine's host name, which every worker shares). Healthy once Celery logged
    ``ready`` after this process started (the worker is connected to the broker and
    consuming); the api-server's health document does not list Celery workers.
    """

    depends_on = ("airflow-scheduler", "redis")
    start_timeout = 120.0
    #: SIGTERM is Celery's warm shutdown (finish running tasks); give them time.
    stop_timeout = 30.0

    def __init__(self, ctx: StackContext, index: int) -> None:
        super().__init__(ctx)
        self.index = index
        self.name = worker_name(index)

    @property
    def hostname(self) -> str:
        """The Celery node name (``worker<n>@dagstorm``)."""
        return f"worker{self.index}@dagstorm"

    def argv(self) -> list[str]:
        """``airflow celery worker`` with its node name, no log server."""
        return [
            self._airflow(),
            *("celery", "worker", "--skip-serve-logs"),
            *("--celery-hostname", self.hostname),
            *("--concurrency", str(self.ctx.config.celery.concurrency)),
        ]

    def host(self) -> HostPlan | None:
        """The worker's host (network namespace), when the config asks and it can be made."""
        if not self.ctx.config.celery.worker_hosts:
            return None
        why = can_make_namespaces(self.ctx.layout.root)
        if why is not None:
            self.ctx.progress.info(f"{self.name}: a plain process, not a host of its own: {why}")
            return None
        return plan_host(self.ctx.layout.root, self.index)

    def start(self) -> PidRecord:
        """Start (in its host, if any); only a ``ready`` logged after this start counts."""
        log = self.ctx.layout.log(self.name)
        offset = log.stat().st_size if log.exists() else 0
        self._offset_file.write_text(str(offset))
        plan = self.host()
        if plan is None:
            return super().start()
        ports = self.ctx.config.ports
        with Toxiproxy(self.ctx).client() as proxies:
            bring_up(plan, proxies, ports)
        return spawn(
            self.name,
            [*exec_prefix(plan), *self.argv()],
            env=worker_env(plan, self.env(), ports),
            log_path=log,
            pid_path=self.ctx.layout.pid_file(self.name),
            marker=self.ctx.marker,
        )

    @property
    def _offset_file(self) -> Path:
        return self.ctx.layout.run_dir / f"{self.name}.log-offset"

    def health(self) -> Health:
        """Alive, and ``celery@… ready.`` logged since this process started."""
        if self.running() is None:
            return Health(False, "not running")
        try:
            offset = int(self._offset_file.read_text())
        except (OSError, ValueError):
            offset = 0
        log = self.ctx.layout.log(self.name)
        try:
            with log.open("rb") as handle:
                handle.seek(offset)
                text = handle.read().decode(errors="replace")
        except OSError:
            return Health(False, "no log yet")
        if f"{self.hostname} ready." in text:
            return Health(True, f"{self.hostname} ready")
        return Health(False, f"waiting for {self.hostname} to connect to the broker")
