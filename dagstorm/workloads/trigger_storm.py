"""A trigger storm: DAG runs (or asset events) through the REST API at a steady rate, bounded."""

from __future__ import annotations

from typing import Any

from dagstorm.run.clock import Clock
from dagstorm.run.events import DagTriggered, WorkloadStats
from dagstorm.run.journal import RunJournal
from dagstorm.stack.endpoints import Stack
from dagstorm.workloads.base import Workload
from dagstorm.workloads.dag_trigger import DagTrigger, Triggered, run_id_prefix


class TriggerStorm(Workload):
    """``rate`` triggers per wall second until stopped or ``max_total`` reached.

    Each trigger asks for its own run id (``<run_id_prefix>_<n>``), so a trigger that
    errored can still be matched with the run Airflow created (docs/measures.md).
    With ``asset``, each request posts an event on that asset instead (its ``extra``
    names the storm and the request's number); the runs are the scheduler's.
    """

    pausable = True

    def __init__(
        self,
        name: str,
        journal: RunJournal,
        clock: Clock,
        *,
        stack: Stack,
        dag: str,
        rate: float,
        max_total: int,
        conf: dict[str, Any],
        asset: str | None = None,
        interval: float = 1.0,
    ) -> None:
        super().__init__(name, journal, clock)
        self.trigger = DagTrigger(stack)
        self.dag = dag
        self.rate = rate
        self.max_total = max_total
        self.conf = conf
        self.asset = asset
        self.interval = interval
        self.sent = 0
        self.run_prefix = run_id_prefix(name)

    def run(self) -> None:
        """Trigger on schedule; one `dag_triggered` event each, stats per interval.

        Paused, it sends nothing and resumes at the planned rate (no catching up).
        """
        started = self.clock.elapsed()
        window_ok = window_failed = 0
        latencies: list[float] = []
        window_start = started
        try:
            while not self._stop.is_set() and self.sent < self.max_total:
                # Paused: the schedule moves on by the pause, so a resume is no burst.
                started += self.wait_if_paused()
                due = started + self.sent / self.rate
                if self.clock.wait(self._stop, due - self.clock.elapsed()):
                    break
                if self.paused:
                    continue  # paused while waiting: send nothing until resumed
                outcome = self._send(self.sent + 1)
                self.sent += 1
                fields = outcome.event(self.name)
                if self.asset is not None:
                    fields["asset"] = self.asset
                self.journal.emit(DagTriggered(**fields))
                latencies.append(outcome.latency_ms)
                window_ok += outcome.ok
                window_failed += not outcome.ok
                now = self.clock.elapsed()
                if now - window_start >= self.interval:
                    ordered = sorted(latencies)
                    self.journal.emit(
                        WorkloadStats(
                            workload=self.name,
                            workload_kind="trigger_storm",
                            records=window_ok + window_failed,
                            acked=window_ok,
                            failed=window_failed,
                            p50_ms=round(ordered[len(ordered) // 2], 1),
                            p99_ms=round(
                                ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1
                            ),
                            interval_s=round(now - window_start, 3),
                        )
                    )
                    window_ok = window_failed = 0
                    latencies = []
                    window_start = now
        finally:
            self.trigger.close()

    def _send(self, number: int) -> Triggered:
        """Request ``number`` of the storm: a run trigger, or an event on the asset."""
        marks = {"dagstorm_storm": self.name}
        if self.asset is not None:
            return self.trigger.asset_event(self.dag, self.asset, {**marks, "n": number})
        return self.trigger.trigger(
            self.dag, {**self.conf, **marks}, run_id=f"{self.run_prefix}_{number}"
        )
