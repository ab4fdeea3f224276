"""Scheduler loop time and throughput with the fleet deployed (B) vs the bench DAGs alone (A).

Usage:
  dagstorm bench scheduler-fleet [--rounds R] [--duration S] [--rate R] [--dags D,D] [--markdown]
  .venv/bin/python bench/scheduler_fleet.py --rounds 3 --markdown

Needs a running embedded stack (`dagstorm stack up`) with the scheduler_bench DAGs
(the reference pipeline) and pipelines/fleet/ deployable (`dagstorm stack deploy
fleet`: 55 DAGs on a */5 cron, docs/fleet.md). Loopback only.

Each round runs the same short scenario under both conditions, the order
alternating (A B, B A, A B, …: one fleet switch per round): a trigger storm of
``--rate`` runs/s on each ``--dags`` DAG for ``--duration`` seconds (≤ rate ×
duration runs each), no fault, the probe watching the bench DAGs only, then a drain
of ≤ ``--drain`` s. It runs through the library (dagstorm.harness.run_scenario);
each run directory is kept under ``--runs-dir``.

- A: the fleet undeployed; after undeploying, waits (bounded) until Airflow marks
  its DAGs stale and none of its tries is queued or running.
- B: the fleet deployed, its schedules running; after deploying, waits until its
  DAGs are listed and one schedule tick has happened (a scheduled fleet run queued
  after the deploy, ≤ ``--settle`` s). The default duration, 300 s, is the fleet's
  cron period: every B window holds exactly one tick.
- Before every run: waits (≤ 240 s) until no bench run is queued or running.

Printed per run and as medians per condition, with B ÷ A: tries finished per
minute of the bench DAGs, of all DAGs and of the fleet's, from Airflow's metadata
database (task_instance ∪ task_instance_history, the window the storm ran) and the
bench DAGs' from dagstorm's result.json; the scheduler loop time p50 / p95 (StatsD
``scheduler.scheduler_loop_duration``, median over the probe's 5 s intervals);
queued → running p50 / p95. The fleet ends as it began: deployed if it was,
undeployed if not (also after an error or Ctrl-C).
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scheduler_fleet_figures import (  # the sibling helpers: the figures (pure), the stack side
    CONDITIONS,
    STORM_PREFIX,
    RunFigures,
    as_json,
    paired_ratios,
    ratio_text,
    render,
    rounds_table,
    storm_scenario,
    summary,
    summary_table,
)
from scheduler_fleet_stack import StackBench, Waits

DAGS = ("scheduler_bench_000", "scheduler_bench_001")
#: The fleet's cron period (pipelines/fleet/dags/fleet.yaml: */5).
FLEET_PERIOD_S = 300
MAX_ROUNDS = 10


@dataclass(frozen=True)
class Settings:
    """The bench's options, checked."""

    rounds: int
    duration_s: int
    rate: float
    dags: tuple[str, ...]
    max_total: int
    drain_s: int
    settle_s: int
    runs_dir: Path
    markdown: bool
    json_path: Path | None


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    """The options (argparse; ``--help`` lists them)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds, each one run of A and one of B (1 to 10)"
    )
    parser.add_argument(
        "--duration", type=int, default=FLEET_PERIOD_S, help="seconds of storm per run (60 to 900)"
    )
    parser.add_argument("--rate", type=float, default=1.0, help="triggers per second per DAG")
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
        "--drain", type=int, default=120, help="seconds a run waits for its runs to finish"
    )
    parser.add_argument(
        "--settle",
        type=int,
        default=FLEET_PERIOD_S + 120,
        help="seconds to wait after a deploy for the fleet's first schedule tick",
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
    if not 0 <= args.drain <= 600 or not 0 <= args.settle <= 1800:
        parser.error("--drain must be 0 to 600 and --settle 0 to 1800 seconds")
    return Settings(
        rounds=args.rounds,
        duration_s=args.duration,
        rate=args.rate,
        dags=dags,
        max_total=max_total,
        drain_s=args.drain,
        settle_s=args.settle,
        runs_dir=args.runs_dir,
        markdown=args.markdown,
        json_path=args.json,
    )


def scenario_text(settings: Settings) -> str:
    """The scenario every run runs: a trigger storm per bench DAG, no fault."""
    return storm_scenario(
        name="scheduler-fleet-bench",
        description="trigger storm of the bench DAGs, no fault (bench/scheduler_fleet.py)",
        seed=18,
        storm_prefix=STORM_PREFIX,
        dags=settings.dags,
        rate=settings.rate,
        max_total=settings.max_total,
        duration_s=settings.duration_s,
        drain_s=settings.drain_s,
    )


def plan(rounds: int, *, fleet_first: bool) -> list[tuple[int, str]]:
    """(round, condition) in running order: A B, B A, … (B A, A B, … with ``fleet_first``)."""
    first, second = ("B", "A") if fleet_first else ("A", "B")
    steps: list[tuple[int, str]] = []
    for round_no in range(1, rounds + 1):
        pair = (first, second) if round_no % 2 else (second, first)
        steps += [(round_no, c) for c in pair]
    return steps


def waits_of(settings: Settings) -> Waits:
    """The bounds of the waits between runs."""
    return Waits(settle_s=settings.settle_s, period_s=FLEET_PERIOD_S)


def expected_wall_s(settings: Settings) -> tuple[float, float]:
    """(typical, upper bound) wall seconds of the whole bench.

    Rounds alternate A B, B A, …: a deploy and an undeploy every other round, plus
    the restore. Typically a deploy waits half a cron period for its tick, a run's
    drain ends within a minute and its analysis takes half a minute.
    """
    waits = waits_of(settings)
    runs = 2 * settings.rounds
    switches = settings.rounds + 1
    typical_run = settings.duration_s + min(settings.drain_s, 60) + 30
    typical_switch = (30 + waits.period_s / 2 + 60) / 2  # half deploys, half undeploys
    bound_run = waits.quiet_s + settings.duration_s + settings.drain_s + 90
    bound_switch = 90 + max(waits.settle_s, waits.stale_s + waits.held_s)
    return (
        runs * typical_run + switches * typical_switch,
        runs * bound_run + switches * bound_switch,
    )


class FleetSwitch(Protocol):
    """Deploys and undeploys the fleet, each settled (a fake in the unit tests)."""

    def deployed(self) -> bool:
        """True when the fleet's files are in the DAGs folder."""
        ...

    def deploy(self, *, settle: bool) -> None:
        """Deploy; with ``settle``, wait for its DAGs and one schedule tick."""
        ...

    def undeploy(self, *, settle: bool) -> None:
        """Undeploy; with ``settle``, wait until its DAGs are stale and its tries ended."""
        ...

    def check_deployed(self) -> None:
        """The fleet was deployed before: wait until its DAGs are listed and ticking."""
        ...


def run_rounds(
    steps: Sequence[tuple[int, str]],
    fleet: FleetSwitch,
    run_one: Callable[[int, str], RunFigures],
    say: Callable[[str], None],
    done: list[RunFigures],
) -> list[RunFigures]:
    """Run ``steps`` into ``done``, switching the fleet as each condition needs.

    The fleet is restored as it was at the start, also when a run or a switch
    raises (``done`` then holds the runs that finished).
    """
    was = fleet.deployed()
    checked = False
    try:
        for round_no, condition in steps:
            want = condition == "B"
            if fleet.deployed() != want:
                say(f"round {round_no} {condition}: {'deploying' if want else 'undeploying'} fleet")
                if want:
                    fleet.deploy(settle=True)
                else:
                    fleet.undeploy(settle=True)
                checked = True
            elif want and not checked:
                fleet.check_deployed()
                checked = True
            done.append(run_one(round_no, condition))
    finally:
        if fleet.deployed() != was:
            say(f"restoring: fleet {'deployed' if was else 'undeployed'} as before")
            if was:
                fleet.deploy(settle=False)
            else:
                fleet.undeploy(settle=False)
    return done


def report(runs: Sequence[RunFigures], settings: Settings) -> str:
    """The per-run table, the paired ratios and the summary table."""
    parts = [render(rounds_table(runs), markdown=settings.markdown), ""]
    for round_no, (tries, loop) in paired_ratios(runs).items():
        parts.append(
            f"round {round_no}: B ÷ A bench tries/min {ratio_text(tries)},"
            f" loop p50 {ratio_text(loop)}"
        )
    rounds = len({f.round for f in runs})
    parts += ["", render(summary_table(summary(runs), rounds), markdown=settings.markdown)]
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, run the rounds on the stack, print the tables."""
    settings = parse_args(argv)
    typical, bound = expected_wall_s(settings)
    print(
        f"{settings.rounds} round(s) of A ({CONDITIONS['A']}) and B ({CONDITIONS['B']}): "
        f"{settings.rate:g} triggers/s on each of {', '.join(settings.dags)} for "
        f"{settings.duration_s} s (≤ {settings.max_total} each); "
        f"expected ≈ {typical / 60:.0f} min, at most ≈ {bound / 60:.0f} min",
        flush=True,
    )
    signal.signal(signal.SIGTERM, _interrupt)  # the fleet is restored on SIGTERM too
    runs: list[RunFigures] = []
    code = 0
    with tempfile.TemporaryDirectory(prefix="dagstorm-bench-fleet-") as tmp:
        scenario = Path(tmp) / "scheduler-fleet-bench.yaml"
        scenario.write_text(scenario_text(settings))
        try:
            bench = StackBench.open(
                scenario=scenario,
                dags=settings.dags,
                runs_dir=settings.runs_dir,
                waits=waits_of(settings),
                say=_say,
            )
            steps = plan(settings.rounds, fleet_first=bench.fleet.deployed())
            run_rounds(steps, bench.fleet, bench.run_one, _say, runs)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            code = 130
        except StackBench.errors as exc:
            render_error = getattr(exc, "render", None)
            print(f"error: {render_error() if render_error else exc}", file=sys.stderr)
            code = 3
    if runs:
        print()
        if code:
            print(f"(the {len(runs)} run(s) that finished before the bench stopped)")
        print(report(runs, settings))
        if settings.json_path is not None:
            settings.json_path.write_text(as_json(runs))
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
    "plan",
    "run_rounds",
    "scenario_text",
    "waits_of",
]

if __name__ == "__main__":
    raise SystemExit(main())
