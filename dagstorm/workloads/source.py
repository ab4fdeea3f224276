"""The event stream every sink shares: schedule + model + bad data.

:class:`EventSource` turns a :class:`~dagstorm.workloads.config.SourceConfig` into
successive batches ``(window, events)`` — labelled, sorted by arrival, each inside
one hour — and nothing else: the landing-zone generator writes them as partitions, a Kafka
producer sends them as messages. Output is a pure function of the config (seed
included), never of how often or when the caller asks.
"""

from __future__ import annotations

from collections.abc import Iterator

from dagstorm.workloads.config import SourceConfig
from dagstorm.workloads.encoding.jsonl import mean_record_bytes
from dagstorm.workloads.model.admodel import AdLogModel
from dagstorm.workloads.model.baddata import apply_bad_data
from dagstorm.workloads.model.events import EventColumns
from dagstorm.workloads.model.schedule import MS_PER_HOUR, Schedule, Window


def build_schedule(config: SourceConfig) -> Schedule:
    """The batch windows of ``config``: its rate plan, shape, start and batching."""
    plan = config.rate_plan(mean_record_bytes(config.model))
    return Schedule(
        events_per_second=plan.sim_events_per_second,
        start_ms=int(config.start.timestamp() * 1000),
        shape=config.shape,
        batch_rows=config.batch_rows,
        max_window_ms=int(config.max_window_seconds * 1000),
    )


def build_model(config: SourceConfig) -> AdLogModel:
    """The ad-log model of ``config``: its model settings, seed and key skew."""
    start_ms = int(config.start.timestamp() * 1000)
    return AdLogModel(config.model, config.seed, skew=config.skew, start_ms=start_ms)


def first_hour_ms(config: SourceConfig) -> int:
    """Start (epoch ms) of the run's first hour: no late event lies before it."""
    start_ms = int(config.start.timestamp() * 1000)
    return start_ms - start_ms % MS_PER_HOUR


def labelled_batch(
    model: AdLogModel, window: Window, config: SourceConfig, *, first_hour: int
) -> EventColumns:
    """The events of ``window``: the model's batch with bad data mixed in.

    ``model`` must have generated every earlier window (or hold, in its pending
    funnel, what they left due later): the window's clicks and conversions come from it.
    """
    batch = model.generate(window)
    return apply_bad_data(batch, window, model, config.bad_data, first_hour_ms=first_hour)


class EventSource:
    """Successive batches of labelled events for a :class:`SourceConfig`."""

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self.model = build_model(config)
        self.plan = config.rate_plan(mean_record_bytes(config.model))
        self.start_ms = int(config.start.timestamp() * 1000)
        self.first_hour_ms = first_hour_ms(config)
        self.schedule = build_schedule(config)
        self._windows = self.schedule.windows()
        #: The next window to be generated.
        self.next_window: Window = next(self._windows)

    @property
    def sim_seconds(self) -> float:
        """Simulated seconds generated so far (the end of the last window)."""
        return (self.next_window.start_ms - self.start_ms) / 1000.0

    def batches(
        self, until_sim_seconds: float, *, max_batches: int | None = None
    ) -> Iterator[tuple[Window, EventColumns]]:
        """Generate every window ending by ``until_sim_seconds`` (at most ``max_batches``)."""
        target_ms = self.start_ms + round(until_sim_seconds * 1000)
        done = 0
        while self.next_window.end_ms <= target_ms and (max_batches is None or done < max_batches):
            window, self.next_window = self.next_window, next(self._windows)
            events = labelled_batch(self.model, window, self.config, first_hour=self.first_hour_ms)
            done += 1
            yield window, events
