"""The probes a run starts by default, from the scenario and the stack."""

from __future__ import annotations

from dagstorm.plugin.context import RunContext
from dagstorm.probes.airflow_runs import AirflowRunsProbe
from dagstorm.probes.base import Probe
from dagstorm.probes.kafka_lag import KafkaLagProbe
from dagstorm.probes.kinds import build_probe
from dagstorm.probes.processes import ProcessProbe
from dagstorm.probes.spark_rest import SparkProbe
from dagstorm.probes.statsd import StatsdProbe
from dagstorm.scenarios.model import Probes
from dagstorm.stack.embedded.launcher import EmbeddedStack


def default_probes(ctx: RunContext, settings: Probes) -> list[Probe]:
    """Airflow runs/tries, StatsD, Spark, Kafka (if topics are named), process stats, extras."""
    interval = settings.interval
    journal, clock, stack = ctx.journal, ctx.clock, ctx.stack
    probes: list[Probe] = [
        AirflowRunsProbe(
            journal,
            clock,
            interval=interval,
            stack=stack,
            dag_ids=settings.airflow_dags,
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
            embedded=EmbeddedStack(ctx.embedded) if ctx.embedded else None,
        ),
    ]
    if stack.kind != "external":
        probes.append(
            StatsdProbe(journal, clock, interval=max(interval, 5.0), port=stack.statsd_port)
        )
    topics = settings.kafka_topics
    if topics:
        probes.append(
            KafkaLagProbe(
                journal,
                clock,
                interval=max(interval, 5.0),
                bootstrap=stack.kafka_bootstrap,
                topics=topics,
                groups=settings.kafka_groups,
            )
        )
    probes.extend(build_probe(spec, ctx, interval) for spec in settings.extra)
    return probes
