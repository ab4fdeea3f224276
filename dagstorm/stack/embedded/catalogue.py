"""The embedded stack's components: which class runs each, which ports it binds."""

from __future__ import annotations

from dagstorm.stack.embedded.components.airflow import (
    AirflowApiServer,
    AirflowCeleryWorker,
    AirflowDagProcessor,
    AirflowScheduler,
    AirflowTriggerer,
)
from dagstorm.stack.embedded.components.base import Component
from dagstorm.stack.embedded.components.kafka import Kafka
from dagstorm.stack.embedded.components.postgres import Postgres
from dagstorm.stack.embedded.components.redis import Redis
from dagstorm.stack.embedded.components.spark import SparkHistory, SparkMaster, SparkWorker
from dagstorm.stack.embedded.components.toxiproxy import Toxiproxy
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.topology import WORKER_PREFIX, ComponentName

#: The class of each component (Celery workers are numbered: :func:`component_of`).
COMPONENT_TYPES: dict[ComponentName, type[Component]] = {
    "postgres": Postgres,
    "toxiproxy": Toxiproxy,
    "redis": Redis,
    "kafka": Kafka,
    "spark-master": SparkMaster,
    "spark-worker": SparkWorker,
    "spark-history": SparkHistory,
    "airflow-api-server": AirflowApiServer,
    "airflow-scheduler": AirflowScheduler,
    "airflow-dag-processor": AirflowDagProcessor,
    "airflow-triggerer": AirflowTriggerer,
}

#: Which ports each component binds (checked for conflicts before it starts).
COMPONENT_PORTS: dict[ComponentName, tuple[str, ...]] = {
    "postgres": ("postgres",),
    "toxiproxy": ("toxiproxy_api", "kafka", "airflow_db", "serving_db", "airflow_api"),
    "redis": ("redis",),
    "kafka": ("kafka_broker", "kafka_controller", "kafka_internal"),
    "spark-master": ("spark_master", "spark_master_ui"),
    "spark-worker": ("spark_worker_ui",),
    "spark-history": ("spark_history",),
    "airflow-api-server": ("airflow_api_server",),
    "airflow-scheduler": (),
    "airflow-dag-processor": (),
    "airflow-triggerer": (),
}


def component_of(ctx: StackContext, name: str) -> Component:
    """The component called ``name`` (a Celery worker by its number)."""
    if name.startswith(WORKER_PREFIX):
        return AirflowCeleryWorker(ctx, int(name.removeprefix(WORKER_PREFIX)))
    return COMPONENT_TYPES[name](ctx)  # type: ignore[index]


def build_components(ctx: StackContext) -> dict[str, Component]:
    """Every component of the stack config, in start order (Celery workers numbered)."""
    return {name: component_of(ctx, name) for name in ctx.config.component_names}


def ports_of(ctx: StackContext, name: str) -> tuple[str, ...]:
    """The :class:`~dagstorm.stack.config.Ports` fields component ``name`` binds."""
    if name == "toxiproxy" and ctx.config.airflow.executor == "celery":
        return (*COMPONENT_PORTS["toxiproxy"], "celery_broker")
    ports: tuple[str, ...] = COMPONENT_PORTS.get(name, ())  # type: ignore[call-overload]
    return ports
