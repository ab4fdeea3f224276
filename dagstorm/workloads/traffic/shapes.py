"""Traffic shapes: one contract, ``rate_at(t) -> float``, pure functions of time.

``t`` is simulated seconds since the run started; the result is a multiplier of
the workload's rate (1.0 = the nominal rate), or a rate itself when a shape is used
on its own. Shapes never read a clock: the engine passes ``t``, so tests evaluate
them at any instant without sleeping. Shapes compose: ``Diurnal() * Spike(...)``
is a :class:`Product`, ``a + b`` a :class:`Sum`.

Each shape is a frozen pydantic model with a ``kind``, so a scenario writes
``shape: {kind: product, factors: [{kind: diurnal}, {kind: spike, at: 600, ...}]}``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Annotated, Literal, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from dagstorm.core.durations import PositiveSeconds as Duration
from dagstorm.core.durations import Seconds as Instant

NonNegative = Annotated[float, Field(ge=0.0)]
PositiveSeconds = Annotated[float, Field(gt=0.0)]

#: Hourly traffic of a consumer ads platform (UTC-local), mean 1: trough at 4 am,
#: lunch bump, evening peak around 8-9 pm.
DEFAULT_PROFILE: tuple[float, ...] = (
    0.62, 0.46, 0.36, 0.31, 0.30, 0.34, 0.48, 0.72, 0.93, 1.04, 1.10, 1.16,
    1.21, 1.18, 1.12, 1.10, 1.13, 1.22, 1.36, 1.51, 1.62, 1.60, 1.40, 1.03,
)  # fmt: skip


@runtime_checkable
class ShapeLike(Protocol):
    """Anything with ``rate_at(t)``: a multiplier (or rate) at simulated second ``t``."""

    def rate_at(self, t: float) -> float:
        """The value at ``t`` simulated seconds since the start."""
        ...


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def rate_at(self, t: float) -> float:
        """The value at ``t`` simulated seconds since the start."""
        raise NotImplementedError

    def next_change(self, t: float) -> float | None:
        """The first instant after ``t`` where the shape jumps or bends, if it has such.

        Batch windows are cut there (:mod:`~dagstorm.workloads.model.schedule`), so
        a window never straddles a spike's edge and its count is exact.
        """
        return None

    def __mul__(self, other: _Shape) -> Product:
        return Product.model_validate({"factors": [self, other]})

    def __add__(self, other: _Shape) -> Sum:
        return Sum.model_validate({"terms": [self, other]})


class Steady(_Shape):
    """A constant: ``level``."""

    kind: Literal["steady"] = "steady"
    level: NonNegative = 1.0

    def rate_at(self, t: float) -> float:
        """``level``."""
        return self.level


class Diurnal(_Shape):
    """A daily curve: ``profile`` (24 hourly values) interpolated linearly, mean 1.

    ``start_hour`` is the hour of day at ``t = 0``; ``amplitude`` scales the
    deviation from 1 (0 = flat, 1 = the profile as given).
    """

    kind: Literal["diurnal"] = "diurnal"
    profile: tuple[NonNegative, ...] = DEFAULT_PROFILE
    start_hour: float = Field(0.0, ge=0.0, lt=24.0)
    amplitude: float = Field(1.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _hours(self) -> Diurnal:
        if len(self.profile) != 24 or sum(self.profile) <= 0:
            raise ValueError("profile: give 24 hourly values with a positive sum")
        return self

    def rate_at(self, t: float) -> float:
        """``1 + amplitude * (p(h) - 1)``, ``p`` the normalised profile at hour of day ``h``."""
        hour = (self.start_hour + t / 3600.0) % 24.0
        low = int(hour)
        frac = hour - low
        mean = sum(self.profile) / 24.0
        value = (self.profile[low] * (1 - frac) + self.profile[(low + 1) % 24] * frac) / mean
        return 1.0 + self.amplitude * (value - 1.0)


class Weekly(_Shape):
    """Weekdays at one level, weekends at ``weekend`` times it, mean 1 over a week."""

    kind: Literal["weekly"] = "weekly"
    weekend: NonNegative = 0.85
    start_weekday: int = Field(0, ge=0, le=6, description="0 = Monday at t = 0")

    def rate_at(self, t: float) -> float:
        """``7 / (5 + 2w)`` on weekdays, ``7w / (5 + 2w)`` on Saturday and Sunday."""
        day = (self.start_weekday + math.floor(t / 86_400.0)) % 7
        norm = 7.0 / (5.0 + 2.0 * self.weekend)
        return norm * (self.weekend if day >= 5 else 1.0)


class Spike(_Shape):
    """1 outside ``[at, at + duration)``, ``factor`` inside, with linear rise and fall.

    ``at``, ``duration``, ``rise`` and ``fall`` are durations (``2h``, ``10m``, or
    seconds). Times a base rate (alone or as a factor of a ``product``), a spike
    of factor N sends N times the records for the window.
    """

    kind: Literal["spike"] = "spike"
    at: Instant
    duration: Duration
    factor: NonNegative = 5.0
    rise: Instant = 0.0
    fall: Instant = 0.0

    @model_validator(mode="after")
    def _ramps_fit(self) -> Spike:
        if self.rise + self.fall > self.duration:
            raise ValueError(
                f"rise ({self.rise:g} s) + fall ({self.fall:g} s) exceed duration "
                f"({self.duration:g} s)"
            )
        return self

    def next_change(self, t: float) -> float | None:
        """The next of: start, end of the rise, start of the fall, end."""
        end = self.at + self.duration
        edges = (self.at, self.at + self.rise, end - self.fall, end)
        return min((e for e in edges if e > t), default=None)

    def rate_at(self, t: float) -> float:
        """1, ramping to ``factor`` over ``rise`` s from ``at``, back to 1 over ``fall`` s."""
        end = self.at + self.duration
        if t < self.at or t >= end:
            return 1.0
        weight = 1.0
        if self.rise > 0 and t < self.at + self.rise:
            weight = (t - self.at) / self.rise
        if self.fall > 0 and t > end - self.fall:
            weight = min(weight, (end - t) / self.fall)
        return 1.0 + (self.factor - 1.0) * weight


class SquareWave(_Shape):
    """``high`` for the first ``duty`` of each period, ``low`` for the rest."""

    kind: Literal["square"] = "square"
    period: PositiveSeconds
    high: NonNegative = 2.0
    low: NonNegative = 0.5
    duty: float = Field(0.5, ge=0.0, le=1.0)
    phase: float = 0.0

    def rate_at(self, t: float) -> float:
        """``high`` if ``((t + phase) mod period) < duty * period`` else ``low``."""
        return self.high if (t + self.phase) % self.period < self.duty * self.period else self.low


class Sawtooth(_Shape):
    """Rises linearly from ``low`` to ``high`` over each period, then drops."""

    kind: Literal["sawtooth"] = "sawtooth"
    period: PositiveSeconds
    low: NonNegative = 0.5
    high: NonNegative = 1.5
    phase: float = 0.0

    def rate_at(self, t: float) -> float:
        """``low + (high - low) * ((t + phase) mod period) / period``."""
        return self.low + (self.high - self.low) * ((t + self.phase) % self.period) / self.period


class Ramp(_Shape):
    """From ``start`` at ``begin`` to ``end`` at ``until`` (flat outside), optionally in steps."""

    kind: Literal["ramp"] = "ramp"
    start: NonNegative = 1.0
    end: NonNegative = 2.0
    begin: NonNegative = 0.0
    until: PositiveSeconds
    steps: int | None = Field(None, ge=1, description="a staircase of this many steps")

    @model_validator(mode="after")
    def _ordered(self) -> Ramp:
        if self.until <= self.begin:
            raise ValueError(f"until ({self.until}) must be after begin ({self.begin})")
        return self

    def rate_at(self, t: float) -> float:
        """Linear interpolation, clamped; with ``steps``: the fraction floored to a step."""
        frac = min(1.0, max(0.0, (t - self.begin) / (self.until - self.begin)))
        if self.steps is not None:
            frac = min(1.0, math.floor(frac * self.steps) / self.steps) if frac < 1 else 1.0
        return self.start + (self.end - self.start) * frac


class PoissonArrivals(_Shape):
    """Poisson noise: in bin ``k`` (width ``bin_seconds``) the value is ``N_k / mean``.

    ``N_k ~ Poisson(mean)`` drawn from a generator seeded by ``(seed, k)``, so the
    value is a pure function of ``t``; its mean is 1 and its relative spread
    ``1/sqrt(mean)``. Use it alone (with ``mean`` = events per bin) as arrivals,
    or as a factor for bursty traffic.
    """

    kind: Literal["poisson"] = "poisson"
    mean: PositiveSeconds = 100.0
    bin_seconds: PositiveSeconds = 1.0
    seed: int = Field(0, ge=0)
    _cache: dict[int, float] = PrivateAttr(default_factory=dict)

    def count(self, k: int) -> int:
        """``N_k``: the arrivals drawn for bin ``k``."""
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0x9015, k & (2**63 - 1)]))
        return int(rng.poisson(self.mean))

    def rate_at(self, t: float) -> float:
        """``N_k / mean`` for the bin ``k = floor(t / bin_seconds)``."""
        k = math.floor(t / self.bin_seconds)
        if k not in self._cache:
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[k] = self.count(k) / self.mean
        return self._cache[k]


class PoissonBursts(_Shape):
    """Bursts at Poisson times: ``factor`` for ``duration`` s, 1 between bursts.

    ``per_hour`` bursts start per simulated hour on average; deterministic given ``seed``.
    """

    kind: Literal["bursts"] = "bursts"
    per_hour: NonNegative = 2.0
    duration: PositiveSeconds = 60.0
    factor: NonNegative = 4.0
    seed: int = Field(0, ge=0)

    def starts(self, k: int) -> list[float]:
        """Burst start times in bin ``k`` (bins are ``duration`` seconds wide)."""
        seq = np.random.SeedSequence([self.seed, 0xB0257, k & (2**63 - 1)])
        rng = np.random.default_rng(seq)
        n = int(rng.poisson(self.per_hour * self.duration / 3600.0))
        return sorted((k + rng.random(n)) * self.duration)

    def rate_at(self, t: float) -> float:
        """``factor`` if a burst started in ``(t - duration, t]``, else 1."""
        k = math.floor(t / self.duration)
        for start in (*self.starts(k - 1), *self.starts(k)):
            if start <= t < start + self.duration:
                return self.factor
        return 1.0


class Product(_Shape):
    """The product of ``factors`` (e.g. diurnal x weekly x spikes)."""

    kind: Literal["product"] = "product"
    factors: list[Shape] = Field(min_length=1)

    def rate_at(self, t: float) -> float:
        """``prod(f.rate_at(t))``."""
        return math.prod(f.rate_at(t) for f in self.factors)

    def next_change(self, t: float) -> float | None:
        """The earliest change of any factor."""
        return _earliest(f.next_change(t) for f in self.factors)


class Sum(_Shape):
    """The sum of ``terms`` (e.g. a base level plus bursts)."""

    kind: Literal["sum"] = "sum"
    terms: list[Shape] = Field(min_length=1)

    def rate_at(self, t: float) -> float:
        """``sum(s.rate_at(t))``."""
        return math.fsum(s.rate_at(t) for s in self.terms)

    def next_change(self, t: float) -> float | None:
        """The earliest change of any term."""
        return _earliest(s.next_change(t) for s in self.terms)


def _earliest(changes: Iterable[float | None]) -> float | None:
    return min((c for c in changes if c is not None), default=None)


Shape = Annotated[
    Steady
    | Diurnal
    | Weekly
    | Spike
    | SquareWave
    | Sawtooth
    | Ramp
    | PoissonArrivals
    | PoissonBursts
    | Product
    | Sum,
    Field(discriminator="kind"),
]
"""Any shape, chosen by its ``kind`` (for configs)."""

Product.model_rebuild()
Sum.model_rebuild()


def ad_traffic(start_hour: float = 0.0, start_weekday: int = 0) -> Product:
    """The default traffic of an ad platform: diurnal x weekly."""
    return Product(factors=[Diurnal(start_hour=start_hour), Weekly(start_weekday=start_weekday)])
