"""The stack side of bench/scheduler_fleet.py: the fleet switched and settled, one run measured.

Deploys and undeploys go through dagstorm's own code (what `dagstorm stack deploy
fleet` and `undeploy fleet` run); the waits read Airflow's metadata database
directly (the stack's PostgreSQL, loopback), each bounded: a wait that runs out
says so and the bench goes on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import psycopg
from airflow_client.client import ApiException, DagRunApi, DagRunMutableStates, DAGRunPatchBody
from scheduler_fleet_figures import (
    STORM_PREFIX,
    RunFigures,
    TryRow,
    Window,
    number,
    percent,
    run_figures,
    window_of,
)

from dagstorm.clients.airflow import api_client
from dagstorm.core.errors import DagstormError, UsageError
from dagstorm.core.polling import poll_until
from dagstorm.core.progress import Progress
from dagstorm.harness.flow import run_scenario
from dagstorm.profiles.loader import LoadedProfile, find_profile
from dagstorm.stack.config import StackConfig, load_stack_config
from dagstorm.stack.deploy import DAG_WAIT_SECONDS, wait_for_dags
from dagstorm.stack.embedded.components.postgres import AIRFLOW_DB, Postgres
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import resolve_stack
from dagstorm.stack.profile_deploy import (
    deploy_profile,
    deployed,
    managed_dags_folder,
    undeploy_profile,
)

Say = Callable[[str], None]
POLL_S = 5.0
#: Tries the executor holds: an A run starts once the fleet has none.
HELD = ("queued", "running")

TRIES_SQL = """
SELECT dag_id, state, queued_dttm, start_date, end_date FROM task_instance
 WHERE (start_date >= %(begin)s AND start_date < %(end)s)
    OR (end_date >= %(begin)s AND end_date < %(end)s)
UNION ALL
SELECT dag_id, state, queued_dttm, start_date, end_date FROM task_instance_history
 WHERE (start_date >= %(begin)s AND start_date < %(end)s)
    OR (end_date >= %(begin)s AND end_date < %(end)s)
"""


@dataclass(frozen=True)
class Waits:
    """Bounds on the waits between runs (wall seconds)."""

    settle_s: float
    stale_s: float = 120.0
    held_s: float = 120.0
    quiet_s: float = 240.0
    #: The fleet's cron period: a deployed fleet ticked within it (and a minute).
    period_s: float = 300.0


#: At most this many leftover runs are ended after a run (a storm triggers fewer).
MAX_LEFTOVERS = 5000
#: Tries of one PATCH that the API answers with a server error (a database deadlock).
PATCH_ATTEMPTS = 3

LEFTOVERS_SQL = """
SELECT dag_id, run_id FROM dag_run
 WHERE dag_id = ANY(%(dags)s) AND state IN ('queued', 'running')
   AND strpos(run_id, %(marker)s) > 0
 ORDER BY id LIMIT %(limit)s
"""


def end_leftovers(
    db: MetadataDb,
    stack: StackConfig,
    *,
    dags: Sequence[str],
    marker: str,
    bound_s: float,
    say: Say,
) -> int:
    """Set the storm's runs (``marker`` in their run id) still queued or running failed.

    Through Airflow's REST API (``PATCH`` of the run's state), at most ``bound_s``
    seconds; how many were ended. So that the next run inherits no backlog: a run
    whose storm outpaced the scheduler leaves hundreds of queued runs that would
    otherwise take the next run's slots (dagstorm's ``inherited`` measure shows it).
    """
    rows = db.rows(LEFTOVERS_SQL, {"dags": list(dags), "marker": marker, "limit": MAX_LEFTOVERS})
    if not rows:
        return 0
    deadline = time.monotonic() + bound_s
    body = DAGRunPatchBody(state=DagRunMutableStates.FAILED)
    ended = 0
    refused: list[str] = []
    with api_client(resolve_stack(stack)) as client:
        api = DagRunApi(client)
        for dag_id, run_id in rows:
            if time.monotonic() > deadline:
                say(f"warning: {len(rows) - ended} leftover run(s) not ended in time")
                break
            for attempt in range(1, PATCH_ATTEMPTS + 1):
                try:
                    api.patch_dag_run(str(dag_id), str(run_id), body, _request_timeout=30)
                    ended += 1
                    break
                except ApiException as exc:
                    if exc.status in (404, 409):  # ended meanwhile: nothing to do
                        ended += 1
                        break
                    # A 500 "Database error": the run's row locked by the scheduler finishing
                    # one of its tries at that moment (a deadlock PostgreSQL broke). Again.
                    if exc.status is None or exc.status < 500:
                        raise
                    if attempt == PATCH_ATTEMPTS:
                        refused.append(f"{run_id} ({exc.status})")
                    else:
                        time.sleep(attempt)
    if refused:
        say(
            f"warning: {len(refused)} leftover run(s) refused by the API after"
            f" {PATCH_ATTEMPTS} attempts, left to finish: {', '.join(refused[:3])}"
        )
    return ended


def wait_empty(what: str, left: Callable[[], Sequence[str]], bound: float, say: Say) -> bool:
    """Poll ``left`` until it is empty, at most ``bound`` seconds; say how it went."""
    began = time.monotonic()
    remaining: Sequence[str] = ()

    def done() -> bool | None:
        nonlocal remaining
        remaining = left()
        return True if not remaining else None

    if poll_until(done, timeout=bound, interval=POLL_S):
        say(f"{what}: after {time.monotonic() - began:.0f} s")
        return True
    shown = ", ".join(list(remaining)[:5])
    say(f"warning: not yet {what} after {bound:.0f} s ({shown}); measuring anyway")
    return False


@dataclass(frozen=True)
class MetadataDb:
    """Airflow's metadata database on the embedded stack's PostgreSQL (loopback)."""

    ctx: StackContext

    def rows(self, query: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """The rows of one query, on a connection of its own."""
        with Postgres(self.ctx).connect(AIRFLOW_DB) as conn:
            return list(conn.execute(query, params or {}).fetchall())


@dataclass
class Fleet:
    """The fleet profile on the embedded stack: switched, then settled."""

    ctx: StackContext
    loaded: LoadedProfile
    waits: Waits
    say: Say

    @property
    def db(self) -> MetadataDb:
        """Where the waits read."""
        return MetadataDb(self.ctx)

    def is_fleet(self, dag_id: str) -> bool:
        """True when ``dag_id`` is one of the fleet's DAGs (its profile's entries)."""
        return any(entry.matches(dag_id) for entry in self.loaded.profile.dags)

    def deployed(self) -> bool:
        """True when the fleet's files are in the DAGs folder."""
        return self.loaded.profile.name in deployed(managed_dags_folder(self.ctx))

    def deploy(self, *, settle: bool) -> None:
        """Deploy (waits until Airflow lists its DAGs); with ``settle``, one schedule tick."""
        since = datetime.now(UTC)
        began = time.monotonic()
        deploy_profile(self.ctx, self.loaded, wait=True, check_folder=True)
        self.say(f"fleet deployed; its DAGs listed after {time.monotonic() - began:.0f} s")
        if settle:
            self._wait_tick(since)

    def check_deployed(self) -> None:
        """Deployed before the bench: its DAGs listed, a tick within the last period."""
        ids = tuple(e.id for e in self.loaded.profile.dags if e.id)
        wait_for_dags(resolve_stack(self.ctx.config), ids, DAG_WAIT_SECONDS)
        self._wait_tick(datetime.now(UTC) - timedelta(seconds=self.waits.period_s + 60))

    def undeploy(self, *, settle: bool) -> None:
        """Undeploy; with ``settle``, until its DAGs are stale and none of its tries is held."""
        undeploy_profile(self.ctx, self.loaded.profile.name)
        self.say("fleet undeployed")
        if not settle:
            return
        wait_empty("fleet DAGs marked stale", self._live_dags, self.waits.stale_s, self.say)
        wait_empty(
            "fleet tries queued or running ended", self._held_tries, self.waits.held_s, self.say
        )

    def _wait_tick(self, since: datetime) -> None:
        wait_empty(
            f"a scheduled fleet run queued since {since:%H:%M:%S}",
            lambda: self._no_tick(since),
            self.waits.settle_s,
            self.say,
        )
        paused = self._paused()
        if paused:
            self.say(f"warning: {len(paused)} fleet DAG(s) paused (left so): {', '.join(paused)}")

    def _live_dags(self) -> list[str]:
        rows = self.db.rows("SELECT dag_id FROM dag WHERE NOT is_stale")
        return [str(r[0]) for r in rows if self.is_fleet(str(r[0]))]

    def _held_tries(self) -> list[str]:
        rows = self.db.rows(
            "SELECT dag_id, count(*) FROM task_instance"
            " WHERE state = ANY(%(held)s) GROUP BY dag_id",
            {"held": list(HELD)},
        )
        return [f"{r[0]} ({r[1]})" for r in rows if self.is_fleet(str(r[0]))]

    def _no_tick(self, since: datetime) -> list[str]:
        rows = self.db.rows(
            "SELECT DISTINCT dag_id FROM dag_run"
            " WHERE run_type = 'scheduled' AND queued_at >= %(since)s",
            {"since": since},
        )
        return [] if any(self.is_fleet(str(r[0])) for r in rows) else ["no tick yet"]

    def _paused(self) -> list[str]:
        rows = self.db.rows("SELECT dag_id FROM dag WHERE is_paused AND NOT is_stale")
        return sorted(str(r[0]) for r in rows if self.is_fleet(str(r[0])))


@dataclass
class StackBench:
    """One embedded stack, the fleet on it, and the bench's scenario run on it."""

    ctx: StackContext
    fleet: Fleet
    scenario: Path
    dags: tuple[str, ...]
    runs_dir: Path
    say: Say
    #: The errors that end the bench with a message (exit 3), the fleet restored.
    errors: ClassVar[tuple[type[Exception], ...]] = (
        DagstormError,
        psycopg.Error,
        ApiException,
    )

    @classmethod
    def open(
        cls, *, scenario: Path, dags: tuple[str, ...], runs_dir: Path, waits: Waits, say: Say
    ) -> StackBench:
        """The configured embedded stack, its metadata database answering."""
        config = load_stack_config()
        if config.kind != "embedded":
            raise UsageError(
                f"the stack is {config.kind}",
                where="the stack config",
                fix="the bench deploys pipelines/fleet/ onto the embedded stack",
            )
        ctx = StackContext(config=config, progress=Progress(quiet=True))
        with Postgres(ctx).connect(AIRFLOW_DB) as conn:
            conn.execute("SELECT 1")
        fleet = Fleet(ctx, find_profile("fleet"), waits, say)
        return cls(ctx, fleet, scenario, dags, runs_dir, say)

    def run_one(self, round_no: int, condition: str) -> RunFigures:
        """Wait until the bench DAGs are quiet, run the scenario, measure it."""
        wait_empty(
            "no bench run queued or running", self._bench_busy, self.fleet.waits.quiet_s, self.say
        )
        self.say(f"round {round_no} {condition}: running the storm")
        done = run_scenario(
            self.scenario,
            stack=self.ctx.config,
            runs_dir=self.runs_dir,
            progress=Progress(quiet=True),
        )
        if done.status == "interrupted":  # Ctrl-C or SIGTERM reached the run: stop the bench
            raise KeyboardInterrupt
        result = json.loads((done.run_dir / "result.json").read_text())
        rows = self.tries(window_of(result))
        figures = run_figures(
            done.run_dir,
            rows,
            round_no=round_no,
            condition=condition,
            is_fleet=self.fleet.is_fleet,
        )
        ended = end_leftovers(
            self.fleet.db,
            self.ctx.config,
            dags=self.dags,
            marker=f"__{STORM_PREFIX}",
            bound_s=self.fleet.waits.held_s,
            say=self.say,
        )
        self.say(
            f"round {round_no} {condition}: {done.run_dir.name} {figures.status}; bench "
            f"{figures.bench.per_min:.1f} tries/min, all {figures.all.per_min:.1f}, fleet "
            f"{figures.fleet.per_min:.1f}; loop p50 {number(figures.loop_p50_ms, 'ms')}; "
            f"inherited {percent(figures.inherited_share)}; {ended} leftover run(s) set failed"
        )
        return figures

    def tries(self, window: Window) -> list[TryRow]:
        """Every try that started or ended in ``window`` (task_instance ∪ its history)."""
        rows = self.fleet.db.rows(TRIES_SQL, {"begin": window.begin, "end": window.end})
        return [TryRow(str(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    def _bench_busy(self) -> list[str]:
        rows = self.fleet.db.rows(
            "SELECT dag_id, count(*) FROM dag_run"
            " WHERE dag_id = ANY(%(dags)s) AND state IN ('queued', 'running') GROUP BY dag_id",
            {"dags": list(self.dags)},
        )
        return [f"{r[0]} ({r[1]})" for r in rows]


__all__ = [
    "LEFTOVERS_SQL",
    "MAX_LEFTOVERS",
    "Fleet",
    "MetadataDb",
    "StackBench",
    "Waits",
    "end_leftovers",
    "wait_empty",
]
