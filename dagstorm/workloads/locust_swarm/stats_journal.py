"""Turning the stats file's lines into journal events (the harness side of the stats path).

Windows are merged per wall second (:class:`SecondAggregator`) and journaled as
``workload_stats``; each triggered run becomes a ``dag_triggered`` event built by
the same code as the ``trigger_storm`` workload's, so analysis counts it.
"""

from __future__ import annotations

from dagstorm.run.events import DagTriggered, WorkloadStats
from dagstorm.run.journal import RunJournal
from dagstorm.workloads.dag_trigger import Triggered
from dagstorm.workloads.locust_swarm.stats_lines import (
    AnyLine,
    EndLine,
    SecondAggregator,
    SecondStats,
    TriggeredLine,
    WindowLine,
)


class StatsJournaler:
    """Journals one Locust workload's stats lines; keeps its totals and its end line."""

    def __init__(self, journal: RunJournal, workload: str, user_kind: str) -> None:
        self.journal = journal
        self.workload = workload
        self.user_kind = user_kind
        self.seconds = SecondAggregator()
        self.totals: dict[str, int] = {"requests": 0, "records": 0, "acked": 0, "failed": 0}
        self.triggered = 0
        self.end: EndLine | None = None

    def consume(self, lines: list[AnyLine]) -> None:
        """Hold windows for their second; journal triggered runs at once; note the end."""
        for line in lines:
            match line:
                case WindowLine():
                    self.seconds.add(line)
                case TriggeredLine():
                    self.triggered += 1
                    outcome = Triggered(
                        line.dag_id,
                        line.run_id,
                        line.ok,
                        line.status,
                        line.latency_ms,
                        line.error or "",
                    )
                    self.journal.emit(DagTriggered(**outcome.event(self.workload, line.conf)))
                case EndLine():
                    self.end = line

    def flush(self, now: float) -> None:
        """Journal the seconds that are complete at epoch ``now``."""
        self._emit(self.seconds.flush(now))

    def flush_all(self) -> None:
        """Journal every second held (the load is over)."""
        self._emit(self.seconds.flush_all())

    def _emit(self, merged: list[SecondStats]) -> None:
        for stats in merged:
            for key in self.totals:
                self.totals[key] += getattr(stats, key)
            self.journal.emit(
                WorkloadStats(
                    workload=self.workload,
                    workload_kind="locust",
                    user=self.user_kind,
                    **stats.event_fields(),
                )
            )
