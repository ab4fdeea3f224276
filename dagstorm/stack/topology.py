"""The embedded stack's shape: components, their ports and the Toxiproxy links.

This is the single declaration the embedded launcher follows and the
docker-compose file is checked against (same services, proxies and ports).
Ports are defaults; :class:`dagstorm.stack.config.Ports` lets each be overridden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ComponentName = Literal[
    "postgres",
    "toxiproxy",
    "redis",
    "kafka",
    "spark-master",
    "spark-worker",
    "spark-history",
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
]

#: Start order of the LocalExecutor stack; `down` walks it backwards.
START_ORDER: tuple[ComponentName, ...] = (
    "postgres",
    "toxiproxy",
    "kafka",
    "spark-master",
    "spark-worker",
    "spark-history",
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)


Executor = Literal["local", "celery"]

#: The Celery worker components' names: ``airflow-celery-worker-<n>``, from 1.
WORKER_PREFIX = "airflow-celery-worker-"


def worker_name(index: int) -> str:
    """The component name of Celery worker ``index`` (from 1)."""
    return f"{WORKER_PREFIX}{index}"


def component_order(executor: Executor, workers: int = 0) -> tuple[str, ...]:
    """Every component of the stack in start order (`down` walks it backwards).

    CeleryExecutor adds Redis (the broker, right after Toxiproxy, which fronts it)
    and ``workers`` Celery workers, started after the scheduler.
    """
    if executor == "local":
        return START_ORDER
    order: list[str] = list(START_ORDER)
    order.insert(order.index("toxiproxy") + 1, "redis")
    after = order.index("airflow-scheduler") + 1
    order[after:after] = [worker_name(i) for i in range(1, workers + 1)]
    return tuple(order)


#: The name of each Toxiproxy link (a network fault's ``link``).
LinkName = Literal["kafka", "airflow-db", "serving-db", "airflow-api", "celery-broker"]


@dataclass(frozen=True)
class Link:
    """A Toxiproxy proxy: clients connect to ``listen``; it forwards to ``upstream``.

    ``listen_port`` and ``upstream_port`` name fields of :class:`Ports`.
    """

    name: LinkName
    listen_port: str
    upstream_port: str
    description: str


#: Every network link a fault can touch. Clients always use the listen side.
LINKS: tuple[Link, ...] = (
    Link("kafka", "kafka", "kafka_broker", "every Kafka client → the broker (advertised address)"),
    Link("airflow-db", "airflow_db", "postgres", "Airflow components → metadata database"),
    Link("serving-db", "serving_db", "postgres", "the pipeline's load tasks → serving database"),
    Link(
        "airflow-api", "airflow_api", "airflow_api_server", "dagstorm and users → Airflow REST API"
    ),
)

#: The Celery broker's link (CeleryExecutor stacks only).
CELERY_BROKER_LINK = Link(
    "celery-broker", "celery_broker", "redis", "the scheduler and Celery workers → Redis broker"
)


def stack_links(executor: Executor) -> tuple[Link, ...]:
    """The Toxiproxy links of a stack with this executor."""
    return (*LINKS, CELERY_BROKER_LINK) if executor == "celery" else LINKS
