"""Waiting for the DAG runs a run started to finish before measuring."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from airflow_client.client import DagRunApi

from dagstorm.clients.airflow import api_client
from dagstorm.core.polling import poll_until
from dagstorm.engine.output.asset_runs import (
    AssetStorm,
    airflow_request,
    pending_runs,
    storms_of,
)
from dagstorm.engine.output.output_checks import TRIGGERED_KINDS, ok_values, run_ids_of, sql_rows
from dagstorm.run.clock import Clock
from dagstorm.run.events import Kind
from dagstorm.run.follow import JournalFollower
from dagstorm.stack.endpoints import Stack

POLL_SECONDS = 3.0


#: Queued and running DAG runs asked for per request (Airflow's API caps a page at its
#: ``maximum_page_limit``, 100 by default, whatever is asked), and at most this many
#: requests a poll.
PAGE_SIZE = 100
MAX_PAGES = 1000


@dataclass(frozen=True)
class InFlight:
    """How many of this run's DAG runs are queued or running, and how it was read."""

    count: int
    #: Read over several pages: a run that ended between two requests may have shifted
    #: one of ours past a page boundary, so a count of 0 is confirmed by another poll.
    paged: bool


def unfinished(stack: Stack, run_ids: set[str]) -> InFlight:
    """How many of ``run_ids`` are still queued or running, over every page of them.

    The stack may hold far more queued or running runs than this run's (a storm's
    leftovers, other DAGs): all of them are read, page after page, until the
    server's ``total_entries`` are read (its pages may be shorter than asked).
    """
    if not run_ids:
        return InFlight(0, paged=False)
    seen: set[str] = set()
    pages = offset = 0
    with api_client(stack) as client:
        api = DagRunApi(client)
        while pages < MAX_PAGES:
            page = api.get_dag_runs(
                dag_id="~",
                state=["queued", "running"],
                limit=PAGE_SIZE,
                offset=offset,
                order_by=["id"],
            )
            pages += 1
            seen.update(run.dag_run_id for run in page.dag_runs if run.dag_run_id in run_ids)
            offset += len(page.dag_runs)
            # The server's page may be shorter than asked: its total says when all is read.
            if not page.dag_runs or offset >= (page.total_entries or 0):
                break
    return InFlight(len(seen), paged=pages > 1)


class DrainWatch:
    """What the drain waits for, from the journal: runs triggered, signals sent, asset storms.

    Each :meth:`update` reads only the lines written since the last one, and parses
    only the lines of the kinds it needs, so a poll every few seconds costs the same
    at the end of a multi-GB soak journal as of a short one.
    """

    KINDS = (*TRIGGERED_KINDS, Kind.KAFKA_SIGNAL)

    def __init__(self, journal_path: Path) -> None:
        self._follower = JournalFollower(journal_path, kinds=self.KINDS)
        #: Run ids of the DAG runs this run triggered (API triggers).
        self.run_ids: set[str] = set()
        #: signal_ids of the completion signals Kafka acknowledged.
        self.signal_ids: set[str] = set()
        self._asset_events: list[dict[str, object]] = []

    def update(self) -> None:
        """Read what was written since the last call."""
        for events in self._follower.chunks():
            self.run_ids |= run_ids_of(events)
            self.signal_ids |= ok_values(events, Kind.KAFKA_SIGNAL, "signal_id")
            self._asset_events += [e for e in events if e.get("asset")]

    def storms(self) -> list[AssetStorm]:
        """The run's accepted asset events so far, grouped by asset."""
        return storms_of(self._asset_events)


def asset_pending(stack: Stack, storms: list[AssetStorm]) -> int:
    """Runs of the DAGs on the run's stormed assets still queued, running or to be created."""
    if not storms:
        return 0
    with httpx.Client(timeout=10.0) as client:
        request = airflow_request(stack, client)
        return sum(pending_runs(request, storm) for storm in storms)


@dataclass(frozen=True)
class SignalLoads:
    """Where the loads of completion signals are recorded: the profile's ``stream_loads`` check.

    Its query takes ``%(signal_ids)s`` and returns ``signal_id`` and ``run_id`` columns.
    """

    dsn: str
    query: str


def served_by(loads: SignalLoads | None, signal_ids: set[str]) -> dict[str, str]:
    """signal_id → run_id of the DAG run that loaded it."""
    if not signal_ids or loads is None:
        return {}
    columns, rows = sql_rows(loads.dsn, loads.query, {"signal_ids": sorted(signal_ids)})
    signal, run = columns.index("signal_id"), columns.index("run_id")
    return {str(row[signal]): str(row[run]) for row in rows}


def wait_for_runs(
    stack: Stack,
    journal_path: Path,
    clock: Clock,
    timeout: float,
    stop: threading.Event,
    *,
    between: Callable[[], None] | None = None,
    signal_loads: SignalLoads | None = None,
) -> int:
    """Poll until this run's DAG runs and completion signals are all done, or ``timeout``.

    Done: no DAG run it triggered is queued or running, no run its asset events
    started (or are about to start) is either, and every completion signal it sent
    has its row in ``signal_loads`` (and the run that loaded it finished); without
    ``signal_loads`` signals are not waited for.
    Returns how many are left. ``between`` is called before each poll (the engine
    reads its control inbox there).
    """
    left = 0
    confirm = False  # a 0 read over several pages, to be read again
    watch = DrainWatch(journal_path)

    def all_done() -> int | None:
        nonlocal left, confirm
        if between is not None:
            between()
        try:
            watch.update()
            signals = watch.signal_ids if signal_loads else set()
            served = served_by(signal_loads, signals)
            # A served signal's run still checks and acknowledges it after the load.
            runs = watch.run_ids | set(served.values())
            in_flight = unfinished(stack, runs)
            by_assets = asset_pending(stack, watch.storms())
            left = in_flight.count + len(signals) - len(served) + by_assets
        except Exception:  # noqa: BLE001 - an unreachable API ends the wait, not the run
            return -1
        if left != 0:
            confirm = False
            return None
        if in_flight.paged and not confirm:
            confirm = True
            return None
        return 0

    done = poll_until(
        all_done,
        timeout=timeout,
        interval=POLL_SECONDS,
        clock=clock.elapsed,
        wait=lambda seconds: clock.wait(stop, seconds),
    )
    return left if done is None else done
