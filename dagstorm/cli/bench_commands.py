"""`dagstorm bench …`: the benchmarks under bench/, run from a checkout."""

from __future__ import annotations

import subprocess
import sys

import click

from dagstorm.cli import cli
from dagstorm.cli.common import handle_errors
from dagstorm.core.errors import UsageError
from dagstorm.stack.layout import project_root

BENCHES = {
    "generate": "generate.py",
    "faults": "fault_timings.py",
    "kafka": "kafka_producer.py",
    "kafka-locust": "kafka_locust.py",
}


@cli.command("bench", context_settings={"ignore_unknown_options": True})
@click.argument("name", type=click.Choice(sorted(BENCHES)))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@handle_errors
def bench(name: str, args: tuple[str, ...]) -> None:
    """Run a benchmark; it prints its figures (results: docs/benchmarks.md).

    generate: ad-log generation MB/s and records/s on one core vs Faker and the
    2 TB/day line. faults: time each fault takes to take effect and to revert
    (needs a running stack). kafka: dagstorm's Kafka producer vs Kafka's own
    ProducerPerformance on the stack's broker (needs a running stack).
    kafka-locust: records/s and MB/s produced to Kafka by Locust users with 1 and
    2 worker processes, and the scaling ratio (needs a running stack).

    \b
    Example:
      dagstorm bench generate
    """
    script = project_root() / "bench" / BENCHES[name]
    if not script.is_file():
        raise UsageError(
            f"benchmark script {script.name} not found",
            where=str(script.parent),
            fix="benchmarks run from a dagstorm checkout",
        )
    raise SystemExit(subprocess.call([sys.executable, str(script), *args]))
