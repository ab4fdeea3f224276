"""Records kafka-python re-sent (batch retries), counted through its own metrics sensor.

kafka-python records every retried batch on its ``record-retries`` sensor but
only exposes a rate; :class:`RetryCounter` adds a running total to that sensor
and reports its growth. A producer without the sensor (metrics disabled, or a
test double) counts 0.
"""

from __future__ import annotations

import warnings
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka.metrics.stats import Total

SENSOR = "record-retries"


class RetryCounter:
    """The producer's retried records since the last :meth:`delta`."""

    def __init__(self, producer: Any) -> None:
        self._metric: Any = None
        self._last = 0.0
        metrics: Any = getattr(producer, "_metrics", None)
        sensor = metrics.get_sensor(SENSOR) if metrics is not None else None
        if metrics is not None and sensor is not None:
            name = metrics.metric_name("dagstorm-record-retry-total", "producer-metrics")
            sensor.add(name, Total())
            self._metric = metrics.metrics.get(name)

    def delta(self) -> int:
        """Retried records since the previous call."""
        if self._metric is None:
            return 0
        total = float(self._metric.value())
        grown, self._last = total - self._last, total
        return int(grown)
