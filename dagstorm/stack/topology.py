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
    "kafka",
    "spark-master",
    "spark-worker",
    "spark-history",
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
]

#: Start order; `down` walks it backwards.
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


#: The name of each Toxiproxy link (a network fault's ``link``).
LinkName = Literal["kafka", "airflow-db", "serving-db", "airflow-api"]


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
