"""Bad data mixed into a batch, each line labelled for the ledger.

Applied after the model, from its own random stream (seed, "bad-data", batch), so
turning bad data on or off never changes the good events' draws:

- ``malformed`` / ``drift_*``: that share of the batch's events is relabelled; the
  encoders render those lines broken (:mod:`jsonl_variants`, :mod:`tables`). The
  event is lost to a correct pipeline.
- ``late``: extra impressions whose ``event_time`` lies 1..``late_max_hours``
  hours (never before the run's first hour) before the batch's partition hour,
  arriving within the batch. A correct pipeline counts them in their event hour.
  They spawn no clicks.
- ``duplicate``: exact copies of that share of the counted lines (valid or late),
  arriving up to 5 s after the original within the batch. Counted once.
"""

from __future__ import annotations

import numpy as np

from dagstorm.workloads.model.admodel import AdLogModel, ModelBatch
from dagstorm.workloads.model.config import BadDataConfig
from dagstorm.workloads.model.events import EventColumns
from dagstorm.workloads.model.ids import batch_rng, event_ids
from dagstorm.workloads.model.schedule import MS_PER_HOUR, Window
from dagstorm.workloads.model.schema import Label

STREAM = "bad-data"
DUPLICATE_DELAY_MS = 5_000

_BROKEN = (Label.MALFORMED, Label.DRIFT_MISSING, Label.DRIFT_EXTRA, Label.DRIFT_RETYPED)


def _relabel(rng: np.random.Generator, events: EventColumns, config: BadDataConfig) -> None:
    rates = [config.malformed, config.drift_missing, config.drift_extra, config.drift_retyped]
    if not any(rates):
        return
    bounds = np.cumsum(rates)
    slot = np.searchsorted(bounds, rng.random(len(events)), side="right")
    codes = np.array([int(label) for label in _BROKEN] + [int(Label.VALID)], dtype=np.int8)
    broken = slot < len(_BROKEN)
    events.label[broken] = codes[slot[broken]]


def _late_rows(
    rng: np.random.Generator,
    model: AdLogModel,
    window: Window,
    config: BadDataConfig,
    *,
    first_hour_ms: int,
    first_row: int,
    n_regular: int,
) -> EventColumns:
    hours_back = min(config.late_max_hours, (window.hour_ms - first_hour_ms) // MS_PER_HOUR)
    if config.late <= 0 or hours_back < 1:
        return EventColumns.empty()
    n = int(rng.binomial(n_regular, config.late))
    # 1 hour late most often: P(k) halves with each further hour.
    back = np.minimum(rng.geometric(0.5, size=n), hours_back).astype(np.int64)
    event_ms = window.hour_ms - back * MS_PER_HOUR + rng.integers(0, MS_PER_HOUR, size=n)
    span = window.end_ms - window.start_ms
    arrival = np.sort(window.start_ms + rng.integers(0, span, size=n))
    rows = model.impressions(rng, event_ms, event_ids(model.seed, window.index, first_row, n))
    return rows.replace(arrival_ms=arrival, label=np.full(n, Label.LATE, dtype=np.int8))


def _duplicates(
    rng: np.random.Generator, events: EventColumns, window: Window, rate: float
) -> EventColumns:
    if rate <= 0:
        return EventColumns.empty()
    counted = np.flatnonzero((events.label == Label.VALID) | (events.label == Label.LATE))
    copies = events.take(counted[rng.random(counted.size) < rate])
    delay = rng.integers(0, DUPLICATE_DELAY_MS, size=len(copies))
    arrival = np.minimum(copies.arrival_ms + delay, window.end_ms - 1)
    return copies.replace(
        arrival_ms=arrival, label=np.full(len(copies), Label.DUPLICATE, dtype=np.int8)
    )


def apply_bad_data(
    batch: ModelBatch,
    window: Window,
    model: AdLogModel,
    config: BadDataConfig,
    *,
    first_hour_ms: int,
) -> EventColumns:
    """The batch's lines with bad data mixed in, labelled, sorted by arrival."""
    events = batch.events
    if not config.any or not len(events):
        return events
    rng = batch_rng(model.seed, STREAM, window.index)
    events = events.replace(label=events.label.copy())
    _relabel(rng, events, config)
    late = _late_rows(
        rng,
        model,
        window,
        config,
        first_hour_ms=first_hour_ms,
        first_row=batch.rows_created,
        n_regular=len(events),
    )
    combined = EventColumns.concat([events, late])
    dups = _duplicates(rng, combined, window, config.duplicate)
    combined = EventColumns.concat([combined, dups])
    if len(combined) == len(events):
        return combined
    return combined.take(np.argsort(combined.arrival_ms, kind="stable"))
