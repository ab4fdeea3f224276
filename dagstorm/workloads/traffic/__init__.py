"""Traffic: a workload's rate in human units, and the shape that varies it over time.

- :mod:`.rates`: ``"2TB/day"``, ``"50k events/s"``, the ``scale`` factor, time
  compression and the resolved :class:`~.rates.RatePlan`;
- :mod:`.shapes`: shapes, ``rate_at(t) -> float``, pure functions of simulated time
  (used by the ad-log source, Kafka bursts and Locust swarms).

Nothing is imported here.
"""
