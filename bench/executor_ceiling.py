"""Task-instance ceiling per minute: LocalExecutor vs Celery with 1 and 2 workers, one run.

Usage:
  dagstorm bench executors [--configs local,celery:1,celery:2] [--rounds R] [--duration S]
                           [--rate R] [--markdown] [--json PATH]
  .venv/bin/python bench/executor_ceiling.py --rounds 2 --markdown

Needs the embedded stack running (`dagstorm stack up`) with the scheduler_bench DAGs
(the reference pipeline; 5-task chains). Loopback only. It restarts Airflow several
times: run it when nobody else uses the stack.

For each condition (``--configs``: ``local`` or ``celery:N``) the bench writes a
stack config of its own, derived from the user's (every key kept; ``airflow.executor``
and ``celery.workers`` set, ``celery.worker_hosts`` off) and brings the stack up with
it through the library (what `dagstorm stack up` runs: Airflow, Redis and the workers
restart when the executor setting changes). Rounds alternate the order (L C1 C2,
C2 C1 L, …) to spread the machine's drift over every condition.

Each run, through the library (dagstorm.harness.run_scenario): a wait (≤
``--quiet-wait`` s) until no bench run is queued or running, then a trigger storm
of ``--rate`` runs/s on each ``--dags`` DAG for ``--duration`` s (≤ ``--max-total``
each) — well above what Airflow finishes, so the executor is the limit — and a
drain of ≤ ``--drain`` s. The storm's runs still queued or running after it are set
failed through Airflow's REST API (≤ ``--cleanup`` s), so the next run starts idle.

The ceiling is the tries of the bench DAGs finished per minute, counted in Airflow's
metadata database (task_instance ∪ task_instance_history, tries that started and
ended success / failed / up_for_retry within the storm's window), printed per run
and as the median per condition over the rounds, with each condition ÷ local;
beside it queued → running p50 / p95 (SQL and dagstorm's), dagstorm's own
result.json throughput (a cross-check) and the scheduler loop (StatsD). At the end,
and after an error, Ctrl-C or SIGTERM, the stack is brought up with the user's own
config again: it ends as it began.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent))

from executor_ceiling_figures import (  # the sibling helpers: the figures (pure), the stack side
    Condition,
    as_json,
    parse_conditions,
    plan,
    rounds_table,
    summary,
    summary_table,
    switches,
)
from executor_ceiling_stack import STORM_PREFIX, ExecutorStack
from scheduler_fleet_figures import RunFigures, render, storm_scenario

from dagstorm.stack.config import CelerySettings, StackConfig

DAGS = ("scheduler_bench_000", "scheduler_bench_001")
DEFAULT_CONFIGS = "local,celery:1,celery:2"
MAX_ROUNDS = 6
#: Typical and upper-bound seconds of one stack switch (Airflow, Redis, workers restarted).
SWITCH_S = (120.0, 600.0)
#: Typical seconds a run's analysis and report take after its drain.
ANALYSIS_S = 30.0


@dataclass(frozen=True)
class Settings:
    """The bench's options, checked."""

    conditions: tuple[Condition, ...]
    rounds: int
    duration_s: int
    rate: float
    dags: tuple[str, ...]
    max_total: int
    drain_s: int
    quiet_s: int
    cleanup_s: int
    stack_file: Path | None
    runs_dir: Path
    markdown: bool
    json_path: Path | None

    @property
    def labels(self) -> list[str]:
        """The conditions' labels, in the order given."""
        return [c.label for c in self.conditions]


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    """The options (argparse; ``--help`` lists them)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--configs",
        default=DEFAULT_CONFIGS,
        help="the conditions, comma-separated: local or celery:N (N workers, 1 to 16)",
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="rounds, each one run of every condition (1 to 6)"
    )
    parser.add_argument(
        "--duration", type=int, default=240, help="seconds of storm per run (60 to 900)"
    )
    parser.add_argument("--rate", type=float, default=2.0, help="triggers per second per DAG")
    parser.add_argument(
        "--dags", default=",".join(DAGS), help="the bench DAGs to trigger, comma-separated"
    )
    parser.add_argument(
        "--max-total",
        type=int,
        default=None,
        help="triggers per DAG per run at most (default: rate x duration; at most 2000)",
    )
    parser.add_argument(
        "--drain", type=int, default=60, help="seconds a run waits for its runs to finish"
    )
    parser.add_argument(
        "--quiet-wait",
        type=int,
        default=240,
        help="seconds to wait before a run until no bench run is queued or running",
    )
    parser.add_argument(
        "--cleanup",
        type=int,
        default=300,
        help="seconds at most for setting a storm's leftover runs failed",
    )
    parser.add_argument(
        "--stack-file",
        type=Path,
        default=None,
        help="the user's stack config (default: $DAGSTORM_STACK_FILE or ./dagstorm.stack.yaml)",
    )
    parser.add_argument(
        "--runs-dir", type=Path, default=Path("runs"), help="where the run directories go"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print the tables in Markdown (docs/benchmarks.md)"
    )
    parser.add_argument(
        "--json", type=Path, default=None, help="also write every figure to this JSON file"
    )
    args = parser.parse_args(argv)
    try:
        conditions = parse_conditions(str(args.configs))
    except ValueError as exc:
        parser.error(f"--configs: {exc}")
    dags = tuple(d.strip() for d in str(args.dags).split(",") if d.strip())
    if not 1 <= args.rounds <= MAX_ROUNDS:
        parser.error(f"--rounds must be 1 to {MAX_ROUNDS}")
    if not 60 <= args.duration <= 900:
        parser.error("--duration must be 60 to 900 seconds")
    if not 0 < args.rate <= 20:
        parser.error("--rate must be above 0 and at most 20")
    if not dags or len(set(dags)) != len(dags):
        parser.error("--dags must name distinct DAGs")
    max_total = args.max_total or math.ceil(args.rate * args.duration)
    if not 1 <= max_total <= 2000:
        parser.error("--max-total must be 1 to 2000")
    if not 0 <= args.drain <= 600 or not 0 <= args.quiet_wait <= 900:
        parser.error("--drain must be 0 to 600 and --quiet-wait 0 to 900 seconds")
    if not 10 <= args.cleanup <= 1800:
        parser.error("--cleanup must be 10 to 1800 seconds")
    return Settings(
        conditions=conditions,
        rounds=args.rounds,
        duration_s=args.duration,
        rate=args.rate,
        dags=dags,
        max_total=max_total,
        drain_s=args.drain,
        quiet_s=args.quiet_wait,
        cleanup_s=args.cleanup,
        stack_file=args.stack_file,
        runs_dir=args.runs_dir,
        markdown=args.markdown,
        json_path=args.json,
    )


def scenario_text(settings: Settings) -> str:
    """The scenario every run runs: a saturating trigger storm per bench DAG, no fault."""
    return storm_scenario(
        name="executor-ceiling-bench",
        description="saturating trigger storm of the bench DAGs, no fault"
        " (bench/executor_ceiling.py)",
        seed=17,
        storm_prefix=STORM_PREFIX,
        dags=settings.dags,
        rate=settings.rate,
        max_total=settings.max_total,
        duration_s=settings.duration_s,
        drain_s=settings.drain_s,
    )


def expected_wall_s(settings: Settings) -> tuple[float, float]:
    """(typical, upper bound) wall seconds of the whole bench.

    A saturated run drains for its whole ``--drain``; ending its leftovers takes
    about a minute (one REST call per leftover run); each change of condition, and
    the restore at the end, restarts Airflow (its workers, Redis).
    """
    steps = plan(settings.conditions, settings.rounds)
    restarts = switches(steps) + 1  # and the restore
    typical_run = 10 + settings.duration_s + settings.drain_s + ANALYSIS_S + 60
    bound_run = settings.quiet_s + settings.duration_s + settings.drain_s + 90 + settings.cleanup_s
    return (
        len(steps) * typical_run + restarts * SWITCH_S[0],
        len(steps) * bound_run + restarts * SWITCH_S[1],
    )


class ExecutorSwitch(Protocol):
    """Brings the stack up per condition and back with the user's config (a fake in tests)."""

    def switch(self, condition: Condition) -> None:
        """Bring the stack up with ``condition``'s executor."""
        ...

    def restore(self) -> None:
        """Bring the stack up with the user's own config."""
        ...


@contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM ignored meanwhile: the restore is not cut short."""
    held = (signal.SIGINT, signal.SIGTERM)
    before = {s: signal.getsignal(s) for s in held}
    for s in held:
        signal.signal(s, signal.SIG_IGN)
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def run_rounds(
    steps: Sequence[tuple[int, Condition]],
    stack: ExecutorSwitch,
    run_one: Callable[[int, Condition], RunFigures],
    say: Callable[[str], None],
    done: list[RunFigures],
) -> list[RunFigures]:
    """Run ``steps`` into ``done``, switching the stack when the condition changes.

    The user's config is brought up again at the end, also when a run or a switch
    raises (``done`` then holds the runs that finished).
    """
    current: Condition | None = None
    began = time.monotonic()
    try:
        for index, (round_no, condition) in enumerate(steps, start=1):
            if condition != current:
                say(f"run {index}/{len(steps)}: stack up with {condition.label}")
                current = None  # a switch that fails leaves the stack in no known condition
                stack.switch(condition)
                current = condition
            minutes = (time.monotonic() - began) / 60
            step = f"run {index}/{len(steps)}: round {round_no} {condition.label}"
            say(f"{step}, {minutes:.0f} min in")
            done.append(run_one(round_no, condition))
    finally:
        say("restoring: the stack up with the user's own config")
        with signals_held():
            stack.restore()
    return done


def slots_line(config: StackConfig, conditions: Sequence[Condition]) -> str:
    """The task slots of each condition, from the user's parallelism and Celery concurrency."""
    default = CelerySettings.model_fields["concurrency"].default
    parallelism, concurrency = config.airflow.parallelism, config.celery.concurrency
    slots = ", ".join(f"{c.label} {c.slots(parallelism, concurrency)}" for c in conditions)
    return (
        f"celery.concurrency {concurrency} (its default: {default}) per worker, "
        f"airflow.parallelism {parallelism}: task slots {slots}"
    )


def report(runs: Sequence[RunFigures], settings: Settings) -> str:
    """The per-run table and the summary table (medians, ratios vs local)."""
    rounds = len({f.round for f in runs})
    return "\n".join(
        [
            render(rounds_table(runs), markdown=settings.markdown),
            "",
            f"median over {rounds} round(s):",
            render(summary_table(summary(runs, settings.labels), settings.labels),
                   markdown=settings.markdown),
        ]
    )  # fmt: skip


def settings_json(settings: Settings) -> dict[str, object]:
    """The settings as JSON-able data (the ``--json`` file records them)."""
    return {
        "configs": settings.labels,
        "rounds": settings.rounds,
        "duration_s": settings.duration_s,
        "rate": settings.rate,
        "dags": list(settings.dags),
        "max_total": settings.max_total,
        "drain_s": settings.drain_s,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, run the rounds on the stack, print the tables."""
    settings = parse_args(argv)
    typical, bound = expected_wall_s(settings)
    steps = plan(settings.conditions, settings.rounds)
    print(
        f"{settings.rounds} round(s) of {', '.join(settings.labels)} ({len(steps)} runs, "
        f"{switches(steps)} stack switch(es) and the restore): {settings.rate:g} triggers/s "
        f"on each of {', '.join(settings.dags)} for {settings.duration_s} s "
        f"(≤ {settings.max_total} each); expected ≈ {typical / 60:.0f} min, "
        f"at most ≈ {bound / 60:.0f} min",
        flush=True,
    )
    signal.signal(signal.SIGTERM, _interrupt)  # the stack is restored on SIGTERM too
    runs: list[RunFigures] = []
    code = 0
    with tempfile.TemporaryDirectory(prefix="dagstorm-bench-executors-") as tmp:
        scenario = Path(tmp) / "executor-ceiling-bench.yaml"
        scenario.write_text(scenario_text(settings))
        try:
            stack = ExecutorStack.open(
                stack_file=settings.stack_file,
                folder=Path(tmp),
                scenario=scenario,
                dags=settings.dags,
                runs_dir=settings.runs_dir,
                quiet_s=settings.quiet_s,
                cleanup_s=settings.cleanup_s,
                say=_say,
            )
            _say(slots_line(stack.base, settings.conditions))
            run_rounds(steps, stack, stack.run_one, _say, runs)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            code = 130
        except ExecutorStack.errors as exc:
            render_error = getattr(exc, "render", None)
            print(f"error: {render_error() if render_error else exc}", file=sys.stderr)
            code = 3
    if runs:
        print()
        if code:
            print(f"(the {len(runs)} run(s) that finished before the bench stopped)")
        print(report(runs, settings))
        if settings.json_path is not None:
            settings.json_path.write_text(as_json(runs, settings.labels, settings_json(settings)))
            print(f"\nfigures written to {settings.json_path}")
    return code


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _say(line: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {line}", flush=True)


__all__ = [
    "Settings",
    "expected_wall_s",
    "main",
    "parse_args",
    "report",
    "run_rounds",
    "scenario_text",
    "signals_held",
    "slots_line",
]

if __name__ == "__main__":
    raise SystemExit(main())
