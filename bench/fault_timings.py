"""How long each fault takes to take effect (inject + verify) and to revert, on the real stack.

Usage: .venv/bin/python bench/fault_timings.py [--repeat N]
       [--jvm [--jvm-actions A,B] | --airflow [--airflow-actions A,B]]
Needs a running embedded stack (`dagstorm stack up`). Prints one row per fault.
With --jvm, the rows are the JVM faults' instead: the bench spark-submits its own
bounded target application (bench/jvm_target_job.py, named dagstorm-bench-jvm-<pid>)
and times each action on its executors, the destructive ones last; the target is
stopped at the end, on an error and on Ctrl-C.
With --airflow, the rows are the Airflow REST-API faults' (bench/airflow_timings.py):
on the reference pipeline's pool, Connection and the DAG scheduler_bench_000; the
bench's own run (for clear_runs) is deleted at the end, on an error and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent))

import airflow_timings  # the sibling helpers: the Airflow rows, the JVM rows
from jvm_target import ACTIONS, TargetApp, jvm_specs

from dagstorm.core.errors import FaultError
from dagstorm.core.progress import Progress
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.manager import ActiveFault, FaultManager, Terminated, sigterm_raises
from dagstorm.faults.specs import AirflowFault, BrokerFault, NetworkFault, SparkFault
from dagstorm.faults.specs.base import FaultSpecBase
from dagstorm.stack.config import load_stack_config
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import resolve_stack

SPECS: list[FaultSpecBase] = [
    NetworkFault(link="kafka", effect="latency", latency_ms=300),
    NetworkFault(link="airflow-db", effect="down"),
    NetworkFault(link="serving-db", effect="bandwidth", rate_kb_per_s=64),
    BrokerFault(action="pause"),
    BrokerFault(action="kill"),
    BrokerFault(action="restart"),
    AirflowFault(action="kill", component="scheduler"),
    AirflowFault(action="pause", component="triggerer"),
    SparkFault(action="worker_loss"),
    SparkFault(action="master_restart"),
    SparkFault(action="cluster_pressure"),
]


class Injector(Protocol):
    """What the rows need of a FaultManager."""

    def inject(self, spec: FaultSpecBase) -> ActiveFault: ...

    def revert(self, active: ActiveFault) -> None: ...


class Target(AbstractContextManager[object], Protocol):
    """What the JVM rows need of their target application: stopped when its block ends."""

    def ensure_running(self) -> float: ...


class Manager(Injector, AbstractContextManager[Injector], Protocol):
    """A FaultManager: reverts what is active when its block ends."""


def time_rows(
    manager: Injector,
    specs: Sequence[FaultSpecBase],
    repeat: int,
    before: Callable[[], object] | None = None,
    keep_going: bool = False,
) -> None:
    """Inject (with verify) and revert each spec ``repeat`` times; print the medians.

    With ``keep_going``, a fault that cannot be applied prints its row as failed
    (the manager has reverted it) and the next row runs.
    """
    width = max([len("fault"), *(len(spec.describe()) for spec in specs)])
    print(f"{'fault':{width}} {'take effect s':>14} {'revert s':>10}", flush=True)
    for spec in specs:
        effect, revert = [], []
        for _ in range(repeat):
            if before is not None:
                before()  # not timed: the target application is up and has an executor
            started = time.monotonic()
            try:
                active = manager.inject(spec)
            except FaultError as exc:
                if not keep_going:
                    raise
                print(f"{spec.describe():{width}} failed: {exc.what}", flush=True)
                break
            effect.append(time.monotonic() - started)
            started = time.monotonic()
            manager.revert(active)
            revert.append(time.monotonic() - started)
        if not effect:
            continue
        print(
            f"{spec.describe():{width}} {statistics.median(effect):>14.2f} "
            f"{statistics.median(revert):>10.2f}",
            flush=True,
        )


def target_name() -> str:
    """The bench's target application: one name per bench process."""
    return f"dagstorm-bench-jvm-{os.getpid()}"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The bench's options."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each fault")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--jvm",
        action="store_true",
        help="time the JVM faults instead, on a target application the bench submits and stops",
    )
    mode.add_argument(
        "--airflow",
        action="store_true",
        help="time the Airflow REST-API faults instead, on the reference pipeline's pool,"
        " Connection and DAG scheduler_bench_000 (every change reverted)",
    )
    parser.add_argument(
        "--jvm-actions",
        default=",".join(ACTIONS),
        help=f"with --jvm: the actions, comma-separated, run in the order {','.join(ACTIONS)}",
    )
    parser.add_argument(
        "--airflow-actions",
        default=",".join(airflow_timings.ACTIONS),
        help="with --airflow: the actions, comma-separated, run in the order"
        f" {','.join(airflow_timings.ACTIONS)}",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.repeat <= 20:
        parser.error("--repeat must be in [1, 20]")
    args.actions = [a.strip() for a in args.jvm_actions.split(",") if a.strip()]
    if unknown := sorted(set(args.actions) - set(ACTIONS)):
        parser.error(f"unknown --jvm-actions {', '.join(unknown)}; known: {', '.join(ACTIONS)}")
    known = airflow_timings.ACTIONS
    args.airflow_actions = [a.strip() for a in args.airflow_actions.split(",") if a.strip()]
    if unknown := sorted(set(args.airflow_actions) - set(known)):
        parser.error(f"unknown --airflow-actions {', '.join(unknown)}; known: {', '.join(known)}")
    return args


def jvm_rows(
    target: Target,
    make_manager: Callable[[], Manager],
    specs: Sequence[FaultSpecBase],
    repeat: int,
) -> None:
    """The JVM rows: the target (re)started and ready before each inject.

    The manager's block ends first (every fault reverted), then the target's (the
    application stopped): after the last row, on an error and on Ctrl-C alike.
    """
    with target, make_manager() as manager:
        time_rows(manager, specs, repeat, before=target.ensure_running, keep_going=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Print the rows."""
    args = parse_args(argv)
    config = load_stack_config()
    stack_ctx = StackContext(config=config, progress=Progress(quiet=True))
    journal = FaultJournal(stack_ctx.layout.root / "faults" / "journal.jsonl")
    stack = resolve_stack(config)
    ctx = FaultContext(stack=stack, journal=journal, embedded=stack_ctx)
    with sigterm_raises():
        if args.airflow:
            api = airflow_timings.RestApi(stack)
            make = partial(FaultManager, ctx)
            airflow_timings.airflow_main(make, api, args.airflow_actions, args.repeat)
            return
        if not args.jvm:
            with FaultManager(ctx) as manager:
                time_rows(manager, SPECS, args.repeat)
            return
        name = target_name()
        master_ui = stack.spark_ui_url or f"http://127.0.0.1:{config.ports.spark_master_ui}"
        target = TargetApp(stack_ctx, stack.endpoint("spark"), master_ui, name)
        started = time.monotonic()
        jvm_rows(target, lambda: FaultManager(ctx), jvm_specs(name, args.actions), args.repeat)
        print(
            f"target {name}: {target.starts} start(s), {time.monotonic() - started:.0f} s in all",
            flush=True,
        )


if __name__ == "__main__":
    try:
        main()
    except (KeyboardInterrupt, Terminated):
        # The managers' and the targets' blocks have reverted and cleaned up on the way out.
        print("fault_timings: interrupted; every fault it applied is reverted", file=sys.stderr)
        raise SystemExit(130) from None
