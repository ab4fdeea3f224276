"""`Stack`: names → endpoints + credentials, for every kind of stack.

dagstorm talks to a stack only through these endpoints (public APIs and
protocols). Credentials come from the embedded stack's generated secrets or
from the environment (``NAME`` or ``NAME_FILE``), never from scenario files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from dagstorm.core.errors import ConfigError
from dagstorm.profiles.loader import default_database
from dagstorm.stack.config import StackConfig
from dagstorm.stack.credentials import Credentials, from_env, load_or_create
from dagstorm.stack.embedded.layout import StateLayout
from dagstorm.stack.parts import EMBEDDED_PARTS, LOCAL_PARTS, Part, declare_hint, part_text


@dataclass(frozen=True)
class Stack:
    """Where each declared part of the stack is reached, and with which credentials.

    An external stack declares only the parts that exist: the endpoint of a part it
    does not declare is None (:meth:`endpoint` refuses it in one line).
    """

    kind: str
    airflow_url: str | None
    airflow_username: str | None
    airflow_password: str | None = field(repr=False)
    spark_master_url: str | None
    spark_ui_url: str | None
    spark_history_url: str | None
    kafka_bootstrap: str | None
    toxiproxy_url: str | None
    serving_db_dsn: str | None = field(repr=False)
    statsd_port: int | None = 8125
    alert_sink_port: int = 8127
    links: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    #: The parts this stack has (default: every part, as the embedded stack).
    parts: frozenset[Part] = EMBEDDED_PARTS
    #: Where the stack was declared (the stack file), for messages.
    source: str = "the stack config"
    #: The folder the Airflow reads DAG files from, where dagstorm may write (else None).
    dags_folder: Path | None = None
    #: The embedded stack's executor (``local`` or ``celery``); None where dagstorm
    #: does not configure Airflow.
    executor: str | None = None
    #: The Celery broker (Redis) of an embedded CeleryExecutor stack, for probes only
    #: (``redis://:<password>@127.0.0.1:<ports.redis>/0``; None otherwise). It goes
    #: straight to Redis, not through the ``celery-broker`` link Airflow and the workers
    #: use: a broker-link fault cuts them off, and the probe must still see the queue
    #: they can no longer reach. It holds the password: a secret value.
    celery_broker_url: str | None = field(default=None, repr=False)

    def secret_values(self) -> list[str]:
        """Strings that must never appear in output (see credentials.redact)."""
        broker = self.celery_broker_url
        password = urlsplit(broker).password if broker else None  # alone in an error, too
        return [s for s in (self.airflow_password, self.serving_db_dsn, broker, password) if s]

    def declares(self, part: Part) -> bool:
        """True when the stack has ``part``."""
        return part in self.parts

    def endpoint(self, part: EndpointPart) -> str:
        """The address of a declared part (a DSN for the serving database).

        Raises :class:`PartNotDeclared` when the stack does not declare it.
        """
        value = {
            "airflow": self.airflow_url,
            "spark": self.spark_master_url,
            "kafka": self.kafka_bootstrap,
            "toxiproxy": self.toxiproxy_url,
            "serving_db": self.serving_db_dsn,
        }[part]
        if value is None or part not in self.parts:
            raise PartNotDeclared(part, self.source)
        return value

    def airflow_login(self) -> tuple[str, str, str]:
        """Airflow's URL, user name and password (refused when Airflow is not declared)."""
        url = self.endpoint("airflow")
        if self.airflow_username is None or self.airflow_password is None:
            raise PartNotDeclared("airflow", self.source)
        return url, self.airflow_username, self.airflow_password


#: The parts that have an address of their own.
EndpointPart = Literal["airflow", "spark", "kafka", "toxiproxy", "serving_db"]


class PartNotDeclared(ConfigError):
    """Something needs a part the stack does not declare."""

    def __init__(self, part: Part, source: str) -> None:
        super().__init__(
            f"{part_text(part)} is needed, but stack {source} does not declare it",
            where=source,
            fix=declare_hint(part),
        )
        self.part = part


def _require(name: str, env: dict[str, str]) -> str:
    value = from_env(name, env)
    if not value:
        raise ConfigError(
            f"{name} is not set",
            where="environment",
            fix=f"export {name}=… or {name}_FILE=/path/to/file",
        )
    return value


def _local(config: StackConfig, creds: Credentials | None, env: dict[str, str]) -> Stack:
    ports = config.ports
    if creds is not None:
        airflow_user, airflow_password = creds.airflow_admin_user, creds.airflow_admin_password
        serving_user, serving_password = creds.serving_db_user, creds.serving_db_password
    else:  # compose: the same topology, secrets from the .env the compose file reads
        airflow_user = from_env("DAGSTORM_AIRFLOW_USERNAME", env) or "admin"
        airflow_password = _require("DAGSTORM_AIRFLOW_PASSWORD", env)
        serving_user = "serving"
        serving_password = _require("SERVING_DB_PASSWORD", env)
    return Stack(
        kind=config.kind,
        airflow_url=f"http://127.0.0.1:{ports.airflow_api}",
        airflow_username=airflow_user,
        airflow_password=airflow_password,
        spark_master_url=f"spark://127.0.0.1:{ports.spark_master}",
        spark_ui_url=f"http://127.0.0.1:{ports.spark_master_ui}",
        spark_history_url=f"http://127.0.0.1:{ports.spark_history}",
        kafka_bootstrap=f"127.0.0.1:{ports.kafka}",
        toxiproxy_url=f"http://127.0.0.1:{ports.toxiproxy_api}",
        serving_db_dsn=(
            f"postgresql://{serving_user}:{serving_password}@127.0.0.1:{ports.serving_db}/"
            f"{default_database(env)}"
        ),
        statsd_port=ports.statsd,
        alert_sink_port=ports.alert_sink,
        links=config.link_names,
        components=config.fault_targets or config.component_names,
        parts=EMBEDDED_PARTS if creds is not None else LOCAL_PARTS,
        source=config.source,
        dags_folder=_dags_folder(config) if creds is not None else None,
        executor=config.airflow.executor if creds is not None else None,
        celery_broker_url=_celery_broker_url(config, creds),
    )


def _celery_broker_url(config: StackConfig, creds: Credentials | None) -> str | None:
    """Redis itself (``ports.redis``), on an embedded CeleryExecutor stack (see Stack)."""
    if creds is None or config.airflow.executor != "celery" or not creds.redis_password:
        return None
    return f"redis://:{creds.redis_password}@127.0.0.1:{config.ports.redis}/0"


def _dags_folder(config: StackConfig) -> Path:
    """The embedded Airflow's DAGs folder (its own, or ``airflow.dags_folder``)."""
    own = StateLayout(config.resolved_state_dir()).root / "airflow" / "dags"
    return config.airflow.dags_folder or own


def resolve_stack(config: StackConfig, env: dict[str, str] | None = None) -> Stack:
    """The endpoints of the configured stack."""
    env = dict(os.environ) if env is None else env
    if config.kind == "embedded":
        layout = StateLayout(config.resolved_state_dir())
        return _local(config, load_or_create(layout.secrets_dir), env)
    if config.kind == "compose":
        return _local(config, None, env)
    ext = config.external
    assert ext is not None  # guaranteed by StackConfig validation
    parts = ext.parts()
    airflow = "airflow" in parts
    return Stack(
        kind="external",
        airflow_url=ext.airflow_url.rstrip("/") if ext.airflow_url else None,
        airflow_username=_require("DAGSTORM_AIRFLOW_USERNAME", env) if airflow else None,
        airflow_password=_require("DAGSTORM_AIRFLOW_PASSWORD", env) if airflow else None,
        spark_master_url=ext.spark_master_url,
        spark_ui_url=ext.spark_ui_url,
        spark_history_url=None,
        kafka_bootstrap=ext.kafka_bootstrap,
        toxiproxy_url=ext.toxiproxy_url,
        serving_db_dsn=_require(ext.serving_db_dsn_env, env) if ext.serving_db_dsn_env else None,
        statsd_port=ext.statsd_port,
        alert_sink_port=config.ports.alert_sink,
        links=ext.links(),
        components=config.fault_targets or (),
        parts=parts,
        source=config.source,
        dags_folder=ext.dags_folder.expanduser().resolve() if ext.dags_folder else None,
    )
