"""`dagstorm bench NAME …`: the benchmarks under bench/, run from a checkout.

Each benchmark is a script with its own argparse options; `dagstorm bench NAME`
passes every argument after NAME to it, ``--help`` included, so `dagstorm bench
NAME --help` lists that benchmark's own options (the script is their one
definition).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import click

from dagstorm.cli import cli
from dagstorm.cli.common import handle_errors
from dagstorm.core.errors import UsageError
from dagstorm.stack.embedded.layout import project_root


@dataclass(frozen=True)
class Bench:
    """One benchmark: its script under bench/, what it measures, an example."""

    script: str
    summary: str
    example: str


BENCHES = {
    "generate": Bench(
        "generate.py",
        "ad-log generation MB/s and records/s on one core vs Faker and the 2 TB/day line",
        "dagstorm bench generate --seconds 4",
    ),
    "drain-poll": Bench(
        "drain_poll.py",
        "journal reading of a drain poll and a live SLO check in a synthetic soak, vs reading all",
        "dagstorm bench drain-poll --hours 4",
    ),
    "faults": Bench(
        "fault_timings.py",
        "time each fault takes to take effect and to revert (needs a running stack;"
        " --jvm: the JVM faults, on a target application the bench submits; --airflow: the"
        " Airflow REST-API faults, on the reference pipeline's objects)",
        "dagstorm bench faults --repeat 3",
    ),
    "kafka": Bench(
        "kafka_producer.py",
        "dagstorm's Kafka producer vs Kafka's own ProducerPerformance on the stack's"
        " broker (needs a running stack)",
        "dagstorm bench kafka --records 2000000 --skip-plain",
    ),
    "kafka-offline": Bench(
        "kafka_offline.py",
        "CPU per stage of dagstorm's Kafka producer path without a broker (null producer);"
        " --compare alternates two checkouts",
        "dagstorm bench kafka-offline --records 2000000 --compare ../main",
    ),
    "kafka-locust": Bench(
        "kafka_locust.py",
        "records/s and MB/s produced to Kafka by Locust users with 1 and 2 worker"
        " processes, and the scaling ratio (needs a running stack)",
        "dagstorm bench kafka-locust --configs 1x4,2x8 --rounds 1",
    ),
    "trigger-locust": Bench(
        "trigger_locust.py",
        "Airflow triggers/s per Locust worker vs a plain httpx loop in the same run"
        " (needs a running stack; creates DAG runs)",
        "dagstorm bench trigger-locust --triggers 300 --configs 1x8,2x16 --rounds 1",
    ),
    "task-split": Bench(
        "task_split.py",
        "a DAG's run time split into assignment, execution and transition beside"
        " Windmill's Airflow 2.7.3 figures (from run directories; --trigger runs"
        " scenarios/windmill-chain.yaml first and needs a running stack)",
        "dagstorm bench task-split --trigger",
    ),
    "scheduler-fleet": Bench(
        "scheduler_fleet.py",
        "the scheduler's loop time and throughput with the fleet deployed vs the bench DAGs"
        " alone, rounds alternating (needs a running stack; deploys and undeploys the fleet)",
        "dagstorm bench scheduler-fleet --rounds 3 --markdown",
    ),
    "executors": Bench(
        "executor_ceiling.py",
        "the task-instance ceiling per minute of LocalExecutor and of Celery with 1 and 2"
        " workers, rounds alternating (needs a running stack; restarts Airflow per condition"
        " and brings the stack config back up at the end)",
        "dagstorm bench executors --rounds 2 --markdown",
    ),
    "generate-spark": Bench(
        "generate_spark.py",
        "the generator's Spark backend vs its local backend on the same config"
        " (needs a running stack)",
        "dagstorm bench generate-spark --hours 2",
    ),
    "recover": Bench(
        "recover_timings.py",
        "how long `dagstorm recover` takes and what it starts and deploys (needs a running stack)",
        "dagstorm bench recover --clean 3 --kills 1",
    ),
    "report-soak": Bench(
        "report_soak.py",
        "analysis and report of a synthetic long soak journal: wall, CPU, peak RSS, vs reading"
        " its lines",
        "dagstorm bench report-soak --hours 24",
    ),
    "soak-rss": Bench(
        "soak_rss.py",
        "dagstorm's own memory over a finished run, from its journal",
        "dagstorm bench soak-rss runs/<timestamp>-soak",
    ),
    "tui-follow": Bench(
        "tui_follow.py",
        "CPU of `dagstorm watch` following a journal that grows at ~1000 events/s",
        "dagstorm bench tui-follow --seconds 10",
    ),
    "tui-watch-run": Bench(
        "tui_watch_run.py",
        "CPU of `dagstorm watch` attached to a real run (needs a running stack)",
        "dagstorm bench tui-watch-run scenarios/smoke.yaml --probes-only",
    ),
    "watch-no-tty": Bench(
        "watch_no_tty.py",
        "CPU of `dagstorm watch` with and without a terminal on stdin, stdout, stderr",
        "dagstorm bench watch-no-tty tests/fixtures/runs/20261124T041804Z-smoke",
    ),
    "fuzz-inputs": Bench(
        "fuzz_inputs.py",
        "mutated scenario, suite and stack files: exit 0 or 2 and one-line errors, never a"
        " traceback",
        "dagstorm bench fuzz-inputs --cases 2000",
    ),
}
#: Scripts under bench/ that are not benchmarks themselves (used by one).
HELPERS = frozenset(
    {
        "airflow_timings.py",
        "executor_ceiling_figures.py",
        "executor_ceiling_stack.py",
        "input_mutations.py",
        "jvm_target.py",
        "jvm_target_job.py",
        "scheduler_fleet_figures.py",
        "scheduler_fleet_stack.py",
        "soak_journal.py",
    }
)


@cli.group("bench")
def bench() -> None:
    """Run a benchmark; it prints its figures (results: docs/benchmarks.md).

    `dagstorm bench NAME --help` lists that benchmark's own options.

    \b
    Example:
      dagstorm bench generate
      dagstorm bench kafka --help
    """


def _command(name: str, spec: Bench) -> click.Command:
    """`dagstorm bench NAME [ARGS]…`: every argument, ``--help`` included, goes to the script."""

    @handle_errors
    def run(args: tuple[str, ...]) -> None:
        script = project_root() / "bench" / spec.script
        if not script.is_file():
            raise UsageError(
                f"benchmark script {script.name} not found",
                where=str(script.parent),
                fix="benchmarks run from a dagstorm checkout",
            )
        raise SystemExit(subprocess.call([sys.executable, str(script), *args]))

    return click.Command(
        name,
        callback=run,
        params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)],
        help=(
            f"{spec.summary[0].upper()}{spec.summary[1:]}.\n\n"
            f"Runs bench/{spec.script}; `--help` after NAME shows its options.\n\n"
            f"\b\nExample:\n  {spec.example}\n  dagstorm bench {name} --help"
        ),
        short_help=spec.summary,
        # The script parses its own options, --help included: click takes none.
        add_help_option=False,
        context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    )


for _name, _spec in BENCHES.items():
    bench.add_command(_command(_name, _spec))

__all__ = ["BENCHES", "HELPERS", "bench"]
