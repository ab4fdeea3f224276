"""The parts a stack may declare, and what a scenario entry says it needs of them.

A stack is a set of parts. The embedded and compose stacks have them all; an
external stack has only those its file declares (an Airflow-only cluster is a
valid stack). Workloads, faults, probes and SLOs say which parts they need
(``needs()`` on their spec), so a run refuses a scenario whose needs the stack
does not declare before anything starts.
"""

from __future__ import annotations

from typing import Literal, get_args

Part = Literal[
    "airflow",
    "spark",
    "kafka",
    "toxiproxy",
    "serving_db",
    "statsd",
    "landing_zone",
    "processes",
    "dag_files",
]

#: Every part, in the order checks and messages list them.
PARTS: tuple[Part, ...] = get_args(Part)

#: Parts an embedded or compose stack always has (compose: no processes dagstorm owns, and
#: its DAGs folder is a volume of the compose file, not a folder dagstorm writes).
LOCAL_PARTS: frozenset[Part] = frozenset(PARTS) - {"processes", "dag_files"}
EMBEDDED_PARTS: frozenset[Part] = frozenset(PARTS)

#: How a message names each part, and the stack-file key that declares it on an external stack.
PART_WORDS: dict[Part, tuple[str, str]] = {
    "airflow": ("Airflow", "external.airflow_url"),
    "spark": ("Spark", "external.spark_master_url"),
    "kafka": ("Kafka", "external.kafka_bootstrap"),
    "toxiproxy": ("Toxiproxy", "external.toxiproxy_url"),
    "serving_db": ("a serving database", "external.serving_db_dsn_env"),
    "statsd": ("StatsD metrics", "external.statsd_port"),
    "landing_zone": ("a landing zone dagstorm writes", "kind: embedded or compose"),
    "processes": ("processes dagstorm owns", "kind: embedded"),
    "dag_files": ("a DAGs folder dagstorm can write", "external.dags_folder"),
}


def part_text(part: Part) -> str:
    """How a message names ``part`` (``Kafka``, ``processes dagstorm owns``)."""
    return PART_WORDS[part][0]


def declare_hint(part: Part) -> str:
    """What declares ``part``: a stack-file key, or the stack kind that has it."""
    key = PART_WORDS[part][1]
    return f"declare `{key}` in the stack file" if key.startswith("external.") else f"use {key}"
