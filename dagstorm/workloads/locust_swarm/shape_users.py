"""dagstorm shapes as Locust user counts: a pure function of wall time.

Locust's ``LoadTestShape.tick()`` returns ``(users, spawn_rate)``; dagstorm's shapes
return a multiplier at a simulated second. :func:`users_at` joins them:
``round(users × shape.rate_at(wall × compression))``, clamped to ``[0, max_users]``.
"""

from __future__ import annotations

from dagstorm.workloads.traffic.shapes import ShapeLike


def users_at(
    wall_seconds: float,
    *,
    users: int,
    max_users: int,
    compression: float,
    shape: ShapeLike | None,
) -> int:
    """The user count ``wall_seconds`` after the load started."""
    factor = 1.0 if shape is None else shape.rate_at(wall_seconds * compression)
    return max(0, min(max_users, round(users * factor)))
