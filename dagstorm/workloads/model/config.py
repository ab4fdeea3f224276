"""Configuration of the ad-log model and of the bad data mixed into it (pydantic v2).

Defaults describe a plausible display-ads platform; every number is documented in
``docs/workloads.md``. Unknown keys are errors (``extra="forbid"``).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dagstorm.core.durations import PositiveSeconds, Seconds

Fraction = Annotated[float, Field(ge=0.0, le=0.5)]
Positive = Annotated[float, Field(gt=0.0)]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,30}$")
_GEO = re.compile(r"^[A-Z]{2}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class LogNormal(_Strict):
    """A lognormal distribution: ``median * exp(sigma * N(0, 1))``."""

    median: Positive
    sigma: float = Field(0.5, ge=0.0, le=5.0)


class ClippedLogNormal(LogNormal):
    """A lognormal clipped to ``[low, high]`` (rates such as CTR)."""

    low: float = Field(ge=0.0)
    high: float = Field(le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> ClippedLogNormal:
        if not self.low <= self.median <= self.high:
            raise ValueError(
                f"need low <= median <= high, got {self.low}, {self.median}, {self.high}"
            )
        return self


def _check_mix(mix: dict[str, float], what: str, pattern: re.Pattern[str]) -> dict[str, float]:
    if not mix:
        raise ValueError(f"{what}: give at least one entry")
    for name, weight in mix.items():
        if not pattern.match(name):
            raise ValueError(f"{what}: bad name {name!r} (expected {pattern.pattern})")
        if not weight > 0:
            raise ValueError(f"{what}: weight of {name!r} must be > 0, got {weight}")
    return mix


DEFAULT_GEO = {
    "US": 30.0, "IN": 9.0, "GB": 6.0, "DE": 6.0, "BR": 5.0, "JP": 5.0, "FR": 4.5,
    "CA": 3.5, "MX": 3.0, "ID": 3.0, "IT": 3.0, "ES": 2.8, "AU": 2.4, "KR": 2.2,
    "NL": 1.8, "TR": 1.7, "PL": 1.5, "SE": 1.2, "AR": 1.2, "ZA": 1.0, "NG": 1.0,
    "PH": 1.0, "VN": 1.0, "EG": 0.8, "CH": 0.8, "BE": 0.8, "AT": 0.6, "NO": 0.6,
    "IE": 0.5, "NZ": 0.5,
}  # fmt: skip
DEFAULT_DEVICE = {"mobile": 62.0, "desktop": 28.0, "tablet": 6.0, "ctv": 4.0}
DEFAULT_OS = {
    "mobile": {"android": 70.0, "ios": 29.0, "other": 1.0},
    "desktop": {"windows": 72.0, "macos": 17.0, "linux": 3.0, "chromeos": 8.0},
    "tablet": {"ios": 55.0, "android": 45.0},
    "ctv": {"tizen": 30.0, "webos": 25.0, "roku": 30.0, "tvos": 15.0},
}
DEFAULT_PLACEMENT = {"feed": 35.0, "banner": 22.0, "video": 18.0, "search": 15.0, "native": 10.0}


class AdModelConfig(_Strict):
    """The synthetic ad platform: catalogue, audience, prices and funnel."""

    campaigns: int = Field(500, ge=1, le=100_000)
    ads_per_campaign: float = Field(8.0, ge=1.0, le=1000.0, description="mean; >= 1 each")
    campaign_zipf: float = Field(1.1, ge=0.0, le=5.0, description="popularity ~ rank^-s")
    ad_zipf: float = Field(0.8, ge=0.0, le=5.0, description="within a campaign")
    users: int = Field(2_000_000, ge=1, le=10**12)
    user_activity: float = Field(
        0.7, ge=0.0, le=3.0, description="visits of the rank-r user ~ r^-s (repeat visits)"
    )
    ctr: ClippedLogNormal = ClippedLogNormal(median=0.004, sigma=0.5, low=0.001, high=0.01)
    cvr: ClippedLogNormal = Field(
        ClippedLogNormal(median=0.05, sigma=0.5, low=0.005, high=0.3),
        description="conversions per click, per campaign",
    )
    cpc_share: float = Field(0.3, ge=0.0, le=1.0, description="campaigns paying per click")
    cpm_bid: LogNormal = LogNormal(median=2.5, sigma=0.5)
    cpc_bid: LogNormal = LogNormal(median=0.6, sigma=0.6)
    bid_jitter: float = Field(0.25, ge=0.0, le=3.0, description="sigma per event")
    clearing_low: float = Field(0.5, gt=0.0, le=1.0, description="price paid / bid, lowest")
    click_delay_s: LogNormal = LogNormal(median=8.0, sigma=1.0)
    conversion_delay_s: LogNormal = LogNormal(median=1200.0, sigma=1.2)
    max_conversion_delay_s: float = Field(86_400.0, gt=0.0, le=30 * 86_400.0)
    geo: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_GEO))
    device: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_DEVICE))
    os: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_OS.items()}
    )
    placement: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_PLACEMENT))

    @field_validator("geo")
    @classmethod
    def _geo(cls, value: dict[str, float]) -> dict[str, float]:
        return _check_mix(value, "geo", _GEO)

    @field_validator("device", "placement")
    @classmethod
    def _names(cls, value: dict[str, float]) -> dict[str, float]:
        return _check_mix(value, "mix", _NAME)

    @model_validator(mode="after")
    def _os_per_device(self) -> AdModelConfig:
        if set(self.os) != set(self.device):
            raise ValueError(
                f"os: give one OS mix per device {sorted(self.device)}, got {sorted(self.os)}"
            )
        for device, mix in self.os.items():
            _check_mix(mix, f"os.{device}", _NAME)
        return self


class BadDataConfig(_Strict):
    """Fractions of bad records, each labelled in the ledger (all 0 by default).

    ``malformed`` and the ``drift_*`` fractions replace that share of generated
    events by a broken rendition; ``late`` adds that share of extra events whose
    time lies 1..``late_max_hours`` hours before their partition; ``duplicate``
    adds exact copies of that share of good lines.
    """

    malformed: Fraction = 0.0
    drift_missing: Fraction = 0.0
    drift_extra: Fraction = 0.0
    drift_retyped: Fraction = 0.0
    late: Fraction = 0.0
    late_max_hours: int = Field(3, ge=1, le=48)
    duplicate: Fraction = 0.0

    @model_validator(mode="after")
    def _total(self) -> BadDataConfig:
        broken = self.malformed + self.drift_missing + self.drift_extra + self.drift_retyped
        if broken > 0.5:
            raise ValueError(f"malformed + drift fractions add up to {broken:.3f}; keep <= 0.5")
        return self

    @property
    def any(self) -> bool:
        """Whether any bad data is configured."""
        return any(
            v > 0
            for v in (
                self.malformed,
                self.drift_missing,
                self.drift_extra,
                self.drift_retyped,
                self.late,
                self.duplicate,
            )
        )


#: Most hot keys a skew may name: a few concentrated keys, not a second distribution.
MAX_HOT_KEYS = 100


class KeySkewConfig(_Strict):
    """Key skew: ``hot_share`` of the impressions carry ``hot_keys`` hot key values.

    ``key`` is the aggregation key made hot: ``campaign_id`` (the hot campaigns'
    ads, drawn by their popularity within the campaign) or ``ad_id`` (single ads,
    so one ``(campaign_id, ad_id)`` group). The hot values are drawn from the seed.
    Clicks and conversions follow their impression. With ``at``/``duration`` the
    skew holds only for impressions whose event time lies in that window of
    simulated time since the start. ``hot_share`` 0 changes nothing.
    """

    key: Literal["campaign_id", "ad_id"] = "campaign_id"
    hot_share: float = Field(ge=0.0, le=1.0, description="of impressions, on the hot keys")
    hot_keys: int = Field(1, ge=1, le=MAX_HOT_KEYS)
    at: Seconds = 0.0
    duration: PositiveSeconds | None = None

    def window_s(self) -> tuple[float, float]:
        """``[start, end)`` in simulated seconds since the run's start (end: inf)."""
        end = float("inf") if self.duration is None else self.at + self.duration
        return self.at, end
