"""The stack config: which stack to use and how it is laid out.

Sources, later ones win: built-in defaults, ``dagstorm.stack.yaml`` (or the file
named by ``--stack-file`` / ``DAGSTORM_STACK_FILE``), then ``DAGSTORM_STATE_DIR``
and command-line flags. Credentials are never part of it: they come from the
environment or files (see :mod:`dagstorm.stack.credentials`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from dagstorm.core.errors import ConfigError
from dagstorm.core.problems import KeyPath, Problem, raise_all, sort_problems
from dagstorm.core.validation_words import problems_from_validation
from dagstorm.core.yamlsource import load_yaml
from dagstorm.stack.parts import EMBEDDED_PARTS, LOCAL_PARTS, Part
from dagstorm.stack.topology import LINKS, Executor, LinkName, component_order, stack_links

DEFAULT_STACK_FILE = "dagstorm.stack.yaml"
DEFAULT_STATE_DIR = ".dagstorm"
#: :attr:`StackConfig.source` of a config read from no file (defaults, environment).
DEFAULT_SOURCE = "the stack config"

Port = Annotated[int, Field(ge=1, le=65535)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Ports(_Strict):
    """Every port the embedded stack binds, all on 127.0.0.1."""

    postgres: Port = 5433
    airflow_db: Port = 15432
    serving_db: Port = 15433
    toxiproxy_api: Port = 8474
    kafka: Port = 9092
    kafka_broker: Port = 19092
    kafka_controller: Port = 19093
    kafka_internal: Port = 19094
    spark_master: Port = 7077
    spark_master_ui: Port = 8090
    spark_worker_ui: Port = 8091
    spark_history: Port = 18080
    airflow_api: Port = 8080
    airflow_api_server: Port = 28080
    statsd: Port = 8125
    alert_sink: Port = 8127
    #: Redis, the Celery broker (CeleryExecutor stacks only), and its Toxiproxy link.
    redis: Port = 6390
    celery_broker: Port = 16379

    @model_validator(mode="after")
    def _distinct(self) -> Ports:
        seen: dict[int, str] = {}
        for name, value in self.model_dump().items():
            if name == "statsd":  # UDP: may share a number with a TCP port
                continue
            if value in seen:
                raise ValueError(f"ports.{name} and ports.{seen[value]} are both {value}")
            seen[value] = name
        return self

    def tcp_ports(self) -> dict[str, int]:
        """The TCP ports the stack listens on, by name (StatsD and the alert sink excluded)."""
        return {k: v for k, v in self.model_dump().items() if k not in {"statsd", "alert_sink"}}


class SparkSettings(_Strict):
    """Size of the embedded Spark standalone cluster."""

    worker_cores: int = Field(1, ge=1, le=64)
    worker_memory: str = Field("2g", pattern=r"^\d+[mMgG]$")


class AirflowSettings(_Strict):
    """Embedded Airflow settings that matter on a small machine."""

    #: ``local``: LocalExecutor in the scheduler; ``celery``: CeleryExecutor, Redis as the
    #: broker (through the ``celery-broker`` link), results in the metadata database.
    executor: Executor = "local"
    #: ``[scheduler] task_instance_heartbeat_timeout``: how long a running task may go
    #: without a heartbeat before the scheduler fails it (None: Airflow's 300 s). A lost
    #: Celery worker's tasks are noticed this late.
    task_heartbeat_timeout_s: int | None = Field(None, ge=10, le=86400)
    parallelism: int = Field(8, ge=1, le=128)
    max_active_tasks_per_dag: int = Field(16, ge=1, le=1024)
    api_workers: int = Field(2, ge=1, le=16)
    dags_folder: Path | None = None
    #: Pipeline profiles `stack up` deploys (names or paths; default: the default profile).
    pipelines: list[str] | None = None


class CelerySettings(_Strict):
    """The Celery workers of an embedded CeleryExecutor stack."""

    #: How many ``airflow celery worker`` processes (components ``airflow-celery-worker-<n>``).
    workers: int = Field(2, ge=1, le=16)
    #: Task slots per worker.
    concurrency: int = Field(4, ge=1, le=64)
    #: Run each worker on a host of its own: a network namespace with its own address,
    #: reaching the broker, the metadata DB and the API only through Toxiproxy proxies
    #: of its own (``celery-broker@w1``…). Where namespaces cannot be made, workers run
    #: as plain processes and `stack up` says why in one line.
    worker_hosts: bool = False


class ExternalEndpoints(_Strict):
    """Endpoints of an existing stack (kind `external`): only the parts that exist.

    Every part is optional and checked only where declared; an Airflow-only
    cluster is a valid stack. Credentials come from the environment or files,
    and only for the parts declared (docs/stack.md).
    """

    airflow_url: str | None = None
    spark_master_url: str | None = Field(None, pattern=r"^spark://")
    spark_ui_url: str | None = None
    kafka_bootstrap: str | None = None
    toxiproxy_url: str | None = None
    #: The Toxiproxy proxies that exist (by link name); default: every link.
    toxiproxy_links: tuple[LinkName, ...] | None = None
    #: The environment variable holding the serving database's DSN (declares that database).
    serving_db_dsn_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    #: The UDP port this machine receives the Airflow's StatsD metrics on (declares StatsD).
    statsd_port: Port | None = None
    #: The folder on this machine the Airflow reads its DAG files from (a shared volume, a
    #: git-sync source): declares the DAG-file faults (`break_dag`, `deploy_dag`).
    dags_folder: Path | None = None

    @model_validator(mode="after")
    def _declares_something(self) -> ExternalEndpoints:
        findings: list[tuple[KeyPath, str]] = []
        if not self.parts():
            findings.append(
                ((), "an external stack declares at least one part, e.g. `airflow_url:`")
            )
        if self.toxiproxy_links is not None and self.toxiproxy_url is None:
            findings.append((("toxiproxy_links",), "`toxiproxy_links` needs `toxiproxy_url`"))
        raise_all("ExternalEndpoints", findings)
        return self

    def parts(self) -> frozenset[Part]:
        """The parts this stack declares."""
        declared: dict[Part, object] = {
            "airflow": self.airflow_url,
            "spark": self.spark_master_url,
            "kafka": self.kafka_bootstrap,
            "toxiproxy": self.toxiproxy_url,
            "serving_db": self.serving_db_dsn_env,
            "statsd": self.statsd_port,
            "dag_files": self.dags_folder,
        }
        return frozenset(part for part, value in declared.items() if value is not None)

    def links(self) -> tuple[str, ...]:
        """The Toxiproxy links this stack declares (none without Toxiproxy)."""
        if self.toxiproxy_url is None:
            return ()
        if self.toxiproxy_links is None:
            return tuple(link.name for link in LINKS)
        return tuple(self.toxiproxy_links)


class StackConfig(_Strict):
    """Which stack dagstorm drives, and where its state lives."""

    kind: Literal["embedded", "compose", "external"] = "embedded"
    state_dir: Path = Path(DEFAULT_STATE_DIR)
    ports: Ports = Ports()
    spark: SparkSettings = SparkSettings()
    airflow: AirflowSettings = AirflowSettings()
    celery: CelerySettings = CelerySettings()
    external: ExternalEndpoints | None = None
    #: Components faults may touch. Default: every component and link of the stack.
    fault_targets: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _external_needs_endpoints(self) -> StackConfig:
        if self.kind == "external" and self.external is None:
            raise ValueError("kind: external needs an `external:` block with the endpoints")
        return self

    _source: str = PrivateAttr(DEFAULT_SOURCE)

    @property
    def source(self) -> str:
        """Where this config came from (the stack file), for messages."""
        return self._source

    def from_source(self, source: str) -> StackConfig:
        """A copy of the config that remembers it was read from ``source``."""
        copy = self.model_copy()
        copy._source = source
        return copy

    def parts(self) -> frozenset[Part]:
        """The parts this stack declares (embedded: all; compose: all but owned processes)."""
        if self.kind == "embedded":
            return EMBEDDED_PARTS
        if self.kind == "compose" or self.external is None:
            return LOCAL_PARTS
        return self.external.parts()

    @property
    def link_names(self) -> tuple[str, ...]:
        """Names of the Toxiproxy links (``celery-broker`` on a CeleryExecutor stack)."""
        return tuple(link.name for link in stack_links(self.airflow.executor))

    @property
    def component_names(self) -> tuple[str, ...]:
        """The embedded stack's components in start order (Redis and workers with Celery)."""
        return component_order(self.airflow.executor, self.celery.workers)

    def resolved_state_dir(self) -> Path:
        """The state directory as an absolute path."""
        return self.state_dir.expanduser().resolve()


class ConfigInvalid(ConfigError):
    """A stack config with one or more problems (all of them are listed, one line each)."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        super().__init__(
            first.what if len(problems) == 1 else f"{len(problems)} problems",
            where=first.where,
            fix=first.fix,
        )
        self.problems = problems

    def render(self) -> str:
        """One line per problem."""
        return "\n".join(str(p) for p in self.problems)

    def __str__(self) -> str:
        return self.render()


def load_stack_config(
    stack_file: Path | None = None,
    *,
    state_dir: Path | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> StackConfig:
    """Build the stack config from the file (if any), the environment and flags."""
    env = dict(os.environ) if env is None else env
    cwd = cwd or Path.cwd()
    explicit = stack_file or (
        Path(env["DAGSTORM_STACK_FILE"]) if env.get("DAGSTORM_STACK_FILE") else None
    )
    path = explicit if explicit is not None else cwd / DEFAULT_STACK_FILE
    data: dict[str, Any] = {}
    doc = None
    if explicit is not None or path.exists():
        doc = load_yaml(path)
        data = dict(doc.data)
    base = path.parent if doc is not None and "state_dir" in data else cwd
    if state_dir is not None:
        data["state_dir"] = str(state_dir)
        base = cwd
    elif env.get("DAGSTORM_STATE_DIR"):
        data["state_dir"] = env["DAGSTORM_STATE_DIR"]
        base = cwd
    problems: list[Problem] = list(doc.duplicates) if doc is not None else []
    if doc is not None and "name" in doc.data and "duration" in doc.data:
        raise ConfigInvalid(
            [
                Problem(
                    doc.where(("name",), key=True),
                    "this file is a scenario, not a stack config",
                    "give it to `dagstorm run`; a stack config looks like docs/stack.md",
                )
            ]
        )

    def where_of(key_path: KeyPath, at_key: bool) -> str:
        if doc is None:
            return _source(env)
        return doc.where(key_path, key=at_key)

    config: StackConfig | None = None
    try:
        config = StackConfig.model_validate(data)
    except ValidationError as exc:
        problems += problems_from_validation(
            exc, data, where_of, model=StackConfig, default_fix="see docs/stack.md for every key"
        )
    if problems or config is None:
        raise ConfigInvalid(sort_problems(problems))
    if not config.state_dir.is_absolute():
        config = config.model_copy(update={"state_dir": (base / config.state_dir).resolve()})
    return config.from_source(str(path)) if doc is not None else config


def _source(env: dict[str, str]) -> str:
    """What a problem with no file behind it points at (values from the environment)."""
    return "DAGSTORM_STATE_DIR" if env.get("DAGSTORM_STATE_DIR") else "stack config"
