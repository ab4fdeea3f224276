"""`Stack`: names → endpoints + credentials, for every kind of stack.

dagstorm talks to a stack only through these endpoints (public APIs and
protocols). Credentials come from the embedded stack's generated secrets or
from the environment (``NAME`` or ``NAME_FILE``), never from scenario files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from dagstorm.core.errors import ConfigError
from dagstorm.profiles.loader import default_database
from dagstorm.stack.config import StackConfig
from dagstorm.stack.credentials import Credentials, from_env, load_or_create
from dagstorm.stack.embedded.layout import StateLayout
from dagstorm.stack.topology import LINKS, START_ORDER


@dataclass(frozen=True)
class Stack:
    """Where each part of the stack is reached, and with which credentials."""

    kind: str
    airflow_url: str
    airflow_username: str
    airflow_password: str = field(repr=False)
    spark_master_url: str
    spark_ui_url: str | None
    spark_history_url: str | None
    kafka_bootstrap: str
    toxiproxy_url: str | None
    serving_db_dsn: str = field(repr=False)
    statsd_port: int = 8125
    alert_sink_port: int = 8127
    links: tuple[str, ...] = ()
    components: tuple[str, ...] = ()

    def secret_values(self) -> list[str]:
        """Strings that must never appear in output (see credentials.redact)."""
        return [self.airflow_password, self.serving_db_dsn]


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
        links=tuple(link.name for link in LINKS),
        components=config.fault_targets or START_ORDER,
    )


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
    return Stack(
        kind="external",
        airflow_url=ext.airflow_url.rstrip("/"),
        airflow_username=_require("DAGSTORM_AIRFLOW_USERNAME", env),
        airflow_password=_require("DAGSTORM_AIRFLOW_PASSWORD", env),
        spark_master_url=ext.spark_master_url,
        spark_ui_url=ext.spark_ui_url,
        spark_history_url=None,
        kafka_bootstrap=ext.kafka_bootstrap,
        toxiproxy_url=ext.toxiproxy_url,
        serving_db_dsn=_require(ext.serving_db_dsn_env, env),
        links=tuple(link.name for link in LINKS) if ext.toxiproxy_url else (),
        components=config.fault_targets or (),
    )
