"""The events the live verdict needs, deduplicated: bounded by the run's DAG activity."""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Any

from dagstorm.tui.state.records import MAX_ALERTS, MAX_DAG_RUNS, MAX_TRIES, Event, trim


class VerdictEvents:
    """The run's start and end, the last state per DAG run / task try, faults and alerts.

    ``generation`` grows with every change, so a reader recomputes the verdict only
    when something it depends on has changed.
    """

    def __init__(self) -> None:
        self.run_start: Event | None = None
        self.run_end: Event | None = None
        self._runs: OrderedDict[tuple[Any, ...], Event] = OrderedDict()
        self._tries: OrderedDict[tuple[Any, ...], Event] = OrderedDict()
        self._faults: list[Event] = []
        self._alerts: deque[Event] = deque(maxlen=MAX_ALERTS)
        self._triggered: OrderedDict[str, Event] = OrderedDict()
        self.generation = 0

    def start(self, e: Event) -> None:
        """Keep the ``run_start``."""
        self.run_start = e
        self.generation += 1

    def end(self, e: Event) -> None:
        """Keep the ``run_end``."""
        self.run_end = e
        self.generation += 1

    def fault(self, e: Event) -> None:
        """Keep a fault event (every one: a run has few)."""
        self._faults.append(e)
        self.generation += 1

    def alert(self, e: Event) -> None:
        """Keep an alert (the last :data:`MAX_ALERTS`)."""
        self._alerts.append(e)
        self.generation += 1

    def triggered(self, e: Event) -> None:
        """Keep a successful ``dag_triggered`` by its run id (does not change the verdict yet)."""
        self._triggered[str(e.get("run_id"))] = e
        trim(self._triggered, MAX_DAG_RUNS * 10)

    def dag_run(self, key: tuple[Any, ...], e: Event) -> None:
        """Keep the last state of a DAG run."""
        self._runs[key] = e
        self._runs.move_to_end(key)
        trim(self._runs, MAX_TRIES)
        self.generation += 1

    def task_try(self, key: tuple[Any, ...], e: Event) -> None:
        """Keep the last state of a task try."""
        self._tries[key] = e
        self._tries.move_to_end(key)
        trim(self._tries, MAX_TRIES)
        self.generation += 1

    def tries_of(self, dag_id: str, run_id: str) -> list[Event]:
        """The last state of each try of one DAG run (the ones still kept)."""
        return [
            e
            for e in self._tries.values()
            if str(e.get("dag_id")) == dag_id and str(e.get("run_id")) == run_id
        ]

    def events(self, now_t: float) -> list[Event]:
        """The events in verdict order, plus a marker at ``now_t`` while the run goes on."""
        if self.run_start is None:
            return []
        events: list[Event] = [self.run_start]
        events.extend(self._triggered.values())
        events.extend(self._runs.values())
        events.extend(self._tries.values())
        events.extend(self._faults)
        events.extend(self._alerts)
        if self.run_end is not None:
            events.append(self.run_end)
        else:
            events.append({"kind": "tui_now", "seq": float("inf"), "t": now_t})
        return events
