"""The probes a run starts by default, from the scenario and the stack."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagstorm.engine.journal import RunJournal
from dagstorm.probes.airflow_runs import AirflowRunsProbe
from dagstorm.probes.base import Probe
from dagstorm.probes.kafka_lag import KafkaLagProbe
from dagstorm.probes.processes import ProcessProbe
from dagstorm.probes.spark_rest import SparkProbe
from dagstorm.probes.statsd import StatsdProbe
from dagstorm.stack.embedded import EmbeddedStack

if TYPE_CHECKING:
    from dagstorm.engine.runner import Runner


def default_probes(runner: Runner, journal: RunJournal) -> list[Probe]:
    """Airflow runs/tries, StatsD, Spark, Kafka (if topics are named) and process stats."""
    interval = runner.scenario.probes.interval
    clock, stack = runner.clock, runner.stack
    probes: list[Probe] = [
        AirflowRunsProbe(
            journal,
            clock,
            interval=interval,
            stack=stack,
            dag_ids=runner.scenario.probes.airflow_dags,
        ),
        SparkProbe(
            journal,
            clock,
            interval=max(interval, 5.0),
            master_ui=stack.spark_ui_url,
            history=stack.spark_history_url,
        ),
        ProcessProbe(
            journal,
            clock,
            interval=max(interval, 5.0),
            embedded=EmbeddedStack(runner.embedded) if runner.embedded else None,
        ),
    ]
    if runner.stack.kind != "external":
        probes.append(
            StatsdProbe(journal, clock, interval=max(interval, 5.0), port=stack.statsd_port)
        )
    topics = runner.scenario.probes.kafka_topics
    if topics:
        probes.append(
            KafkaLagProbe(
                journal,
                clock,
                interval=max(interval, 5.0),
                bootstrap=stack.kafka_bootstrap,
                topics=topics,
                groups=runner.scenario.probes.kafka_groups,
            )
        )
    return probes
