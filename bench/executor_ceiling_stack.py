"""The stack side of bench/executor_ceiling.py: the stack up per condition, one run measured.

Each condition gets a stack config file of its own, derived from the user's (every
key kept, ``airflow.executor`` and ``celery.workers`` set, ``celery.worker_hosts``
off), and the stack is brought up with it through dagstorm's own code (what
`dagstorm stack up` runs: Airflow restarts when the executor setting changes). The
user's config is brought up again at the end. Tries are read from Airflow's metadata
database (the stack's PostgreSQL, loopback) with scheduler_fleet_stack.py's query;
the storm's runs still queued or running after the drain are set failed through
Airflow's REST API, so the next condition starts on an idle scheduler. Every wait
is bounded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import psycopg
import yaml
from airflow_client.client import ApiException
from executor_ceiling_figures import Condition
from scheduler_fleet_figures import RunFigures, TryRow, Window, number, run_figures, window_of
from scheduler_fleet_stack import TRIES_SQL, MetadataDb, end_leftovers, wait_empty

from dagstorm.core.errors import DagstormError, UsageError
from dagstorm.core.progress import Progress
from dagstorm.harness.flow import run_scenario
from dagstorm.stack.config import StackConfig, load_stack_config
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.launcher import EmbeddedStack

Say = Callable[[str], None]
#: What the bench's trigger storms are called: their run ids end ``__<name>`` (dag_trigger.py).
STORM_PREFIX = "execbench-storm-"
BUSY_SQL = """
SELECT dag_id, count(*) FROM dag_run
 WHERE dag_id = ANY(%(dags)s) AND state IN ('queued', 'running') GROUP BY dag_id
"""


def condition_data(base: StackConfig, condition: Condition) -> dict[str, Any]:
    """The user's stack config as data, with this condition's executor and workers.

    Every other key is the user's (the state directory made absolute, so the copy
    names the same stack wherever it is written); worker hosts are off.
    """
    data: dict[str, Any] = base.model_dump(mode="json", exclude_none=True)
    data["airflow"] = {**data.get("airflow", {}), "executor": condition.executor}
    celery = {**data.get("celery", {}), "worker_hosts": False}
    if condition.executor == "celery":
        celery["workers"] = condition.workers
    data["celery"] = celery
    return data


def write_condition_config(base: StackConfig, condition: Condition, folder: Path) -> StackConfig:
    """Write ``<label>.stack.yaml`` into ``folder`` and load it as `--stack-file` would."""
    path = folder / f"{condition.label}.stack.yaml"
    path.write_text(
        f"# written by bench/executor_ceiling.py from {base.source}\n"
        + yaml.safe_dump(condition_data(base, condition), sort_keys=False)
    )
    return load_stack_config(path, env={})


@dataclass
class ExecutorStack:
    """The embedded stack, switched between executor conditions, and the bench's runs on it."""

    base: StackConfig
    folder: Path
    scenario: Path
    dags: tuple[str, ...]
    runs_dir: Path
    quiet_s: float
    cleanup_s: float
    say: Say
    current: StackConfig | None = field(default=None)
    #: The errors that end the bench with a message (exit 3), the stack restored.
    errors: ClassVar[tuple[type[Exception], ...]] = (DagstormError, psycopg.Error, ApiException)

    @classmethod
    def open(cls, *, stack_file: Path | None, **kwargs: Any) -> ExecutorStack:
        """The user's embedded stack config, its metadata database answering."""
        base = load_stack_config(stack_file)
        if base.kind != "embedded":
            raise UsageError(
                f"the stack is {base.kind}",
                where=base.source,
                fix="the bench switches the embedded stack's executor (`dagstorm stack up`)",
            )
        bench = cls(base=base, **kwargs)
        bench.db.rows("SELECT 1")
        return bench

    @property
    def db(self) -> MetadataDb:
        """Airflow's metadata database (the same PostgreSQL under every condition)."""
        return MetadataDb(StackContext(config=self.base, progress=Progress(quiet=True)))

    def switch(self, condition: Condition) -> None:
        """Bring the stack up with ``condition``'s config (Airflow restarts if it changes)."""
        config = write_condition_config(self.base, condition, self.folder)
        began = time.monotonic()
        EmbeddedStack(StackContext(config=config, progress=Progress(quiet=True))).up()
        self.current = config
        self.say(f"stack up with {condition.label} after {time.monotonic() - began:.0f} s")

    def restore(self) -> None:
        """Bring the stack up with the user's own config again."""
        began = time.monotonic()
        EmbeddedStack(StackContext(config=self.base, progress=Progress(quiet=True))).up()
        self.current = self.base
        self.say(f"stack up with the user's config after {time.monotonic() - began:.0f} s")

    def run_one(self, round_no: int, condition: Condition) -> RunFigures:
        """Wait until the bench DAGs are idle, run the storm, measure it, end its leftovers."""
        wait_empty("no bench run queued or running", self._busy, self.quiet_s, self.say)
        self.say(f"round {round_no} {condition.label}: running the storm")
        done = run_scenario(
            self.scenario,
            stack=self.current or self.base,
            runs_dir=self.runs_dir,
            progress=Progress(quiet=True),
        )
        if done.status == "interrupted":  # Ctrl-C or SIGTERM reached the run: stop the bench
            raise KeyboardInterrupt
        result = json.loads((done.run_dir / "result.json").read_text())
        figures = run_figures(
            done.run_dir,
            self.tries(window_of(result)),
            round_no=round_no,
            condition=condition.label,
            is_fleet=lambda _: False,
        )
        ended = self.end_leftovers()
        self.say(
            f"round {round_no} {condition.label}: {done.run_dir.name} {figures.status}; "
            f"{figures.bench.per_min:.1f} bench tries/min (SQL), dagstorm "
            f"{number(figures.dagstorm_bench_per_min, '')}; q→r p95 "
            f"{number(figures.bench.queued_p95_s, 's')}; {ended} leftover run(s) set failed"
        )
        return figures

    def tries(self, window: Window) -> list[TryRow]:
        """Every try that started or ended in ``window`` (task_instance ∪ its history)."""
        rows = self.db.rows(TRIES_SQL, {"begin": window.begin, "end": window.end})
        return [TryRow(str(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    def end_leftovers(self) -> int:
        """Set the storm's runs still queued or running failed (≤ ``cleanup_s``); how many."""
        return end_leftovers(
            self.db,
            self.current or self.base,
            dags=self.dags,
            marker=f"__{STORM_PREFIX}",
            bound_s=self.cleanup_s,
            say=self.say,
        )

    def _busy(self) -> list[str]:
        rows = self.db.rows(BUSY_SQL, {"dags": list(self.dags)})
        return [f"{r[0]} ({r[1]})" for r in rows]


__all__ = [
    "STORM_PREFIX",
    "ExecutorStack",
    "condition_data",
    "write_condition_config",
]
