"""The probes a run starts by default, from the scenario and the stack."""

from __future__ import annotations

from dagstorm.plugin.context import RunContext
from dagstorm.probes.airflow_runs import AirflowRunsProbe
from dagstorm.probes.base import Probe
from dagstorm.probes.celery_broker import (
    CeleryProbe,
    broker_client,
    worker_logs,
    worker_processes,
)
from dagstorm.probes.kafka_lag import KafkaLagProbe
from dagstorm.probes.kinds import build_probe
from dagstorm.probes.processes import ProcessProbe
from dagstorm.probes.spark_rest import SparkProbe
from dagstorm.probes.statsd import StatsdProbe
from dagstorm.scenarios.model import Probes
from dagstorm.stack.embedded.launcher import EmbeddedStack


def default_probes(ctx: RunContext, settings: Probes) -> list[Probe]:
    """The probes of the parts the stack declares, and the scenario's extras.

    Airflow runs/tries (Airflow), StatsD (a StatsD port), Spark (Spark), Kafka lag
    (Kafka, when topics are named), process stats (dagstorm and the processes it owns),
    Celery queue depth and workers alive (an embedded CeleryExecutor stack).
    """
    interval = settings.interval
    journal, clock, stack = ctx.journal, ctx.clock, ctx.stack
    slow = max(interval, 5.0)
    probes: list[Probe] = []
    if stack.declares("airflow"):
        probes.append(
            AirflowRunsProbe(
                journal, clock, interval=interval, stack=stack, dag_ids=settings.airflow_dags
            )
        )
    if stack.declares("spark"):
        probes.append(
            SparkProbe(
                journal,
                clock,
                interval=slow,
                master_ui=stack.spark_ui_url,
                history=stack.spark_history_url,
            )
        )
    embedded = EmbeddedStack(ctx.embedded) if ctx.embedded else None
    probes.append(  # dagstorm itself, and the processes it owns
        ProcessProbe(journal, clock, interval=slow, embedded=embedded)
    )
    celery = celery_probe(ctx, interval, embedded)
    if celery is not None:
        probes.append(celery)
    if stack.declares("statsd") and stack.statsd_port is not None:
        probes.append(StatsdProbe(journal, clock, interval=slow, port=stack.statsd_port))
    topics = settings.kafka_topics
    if topics:
        probes.append(
            KafkaLagProbe(
                journal,
                clock,
                interval=slow,
                bootstrap=stack.endpoint("kafka"),
                topics=topics,
                groups=settings.kafka_groups,
            )
        )
    probes.extend(build_probe(spec, ctx, interval) for spec in settings.extra)
    return probes


def celery_probe(
    ctx: RunContext, interval: float, embedded: EmbeddedStack | None
) -> CeleryProbe | None:
    """The Celery probe, when the stack is an embedded one with CeleryExecutor."""
    stack = ctx.stack
    url = stack.celery_broker_url
    if stack.executor != "celery" or url is None:
        return None
    return CeleryProbe(
        ctx.journal,
        ctx.clock,
        interval=interval,
        broker=lambda: broker_client(url),
        workers=(lambda: worker_processes(embedded)) if embedded is not None else None,
        logs=worker_logs(embedded) if embedded is not None else None,
    )
