"""A :class:`Stack` for unit tests: an Airflow API and nothing else unless given."""

from __future__ import annotations

from typing import Any

from dagstorm.stack.endpoints import Stack


def airflow_stack(
    *, kind: str = "external", airflow_url: str = "http://127.0.0.1:1", **fields: Any
) -> Stack:
    """An Airflow-only stack (user ``u``, password ``p``); ``fields`` set the rest."""
    parts: dict[str, Any] = {
        "spark_master_url": None,
        "spark_ui_url": None,
        "spark_history_url": None,
        "kafka_bootstrap": None,
        "toxiproxy_url": None,
        "serving_db_dsn": None,
        **fields,
    }
    return Stack(
        kind=kind,
        airflow_url=airflow_url,
        airflow_username="u",
        airflow_password="p",
        **parts,
    )
