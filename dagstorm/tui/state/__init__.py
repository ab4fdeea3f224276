"""What the TUI knows about a run: windowed aggregates fed one journal event at a time.

Pure Python (no Textual), so it is unit-tested on its own and reused by the bench.
Memory is bounded whatever the run's length or rate: time series are per-second
bins over a sliding window, lists are deques with a maximum length, and the events
kept for the live verdict are the last state per DAG run / task try (a run's
size, not its traffic).

:class:`RunState` (:mod:`.run_state`) holds the aggregates; :mod:`.records` the
records it keeps, :mod:`.describe` the log pane's line per event,
:mod:`.verdict_events` the events the live verdict needs, and one module per
domain handles its events. The public names are re-exported here.
"""

from dagstorm.tui.state.describe import describe
from dagstorm.tui.state.records import (
    FINAL_TRY_STATES,
    LOG_LINES,
    MAX_ALERTS,
    MAX_DAG_RUNS,
    MAX_TRIES,
    NEVER_RAN_STATES,
    PERIODIC_KINDS,
    SERIES_WINDOW,
    DagRunRow,
    Event,
    FaultSpan,
    LogLine,
    PhaseSpan,
    ProcessSample,
    SparkState,
)
from dagstorm.tui.state.run_state import RunState

__all__ = [
    "FINAL_TRY_STATES",
    "LOG_LINES",
    "MAX_ALERTS",
    "MAX_DAG_RUNS",
    "MAX_TRIES",
    "NEVER_RAN_STATES",
    "PERIODIC_KINDS",
    "SERIES_WINDOW",
    "DagRunRow",
    "Event",
    "FaultSpan",
    "LogLine",
    "PhaseSpan",
    "ProcessSample",
    "RunState",
    "SparkState",
    "describe",
]
