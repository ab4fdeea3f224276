"""Workload configuration models (pydantic v2, strict): light to import.

Scenario validation imports this module alone (pydantic and numpy, no Arrow or
pandas): :class:`SourceConfig` says what to generate, :class:`GeneratorConfig`
adds where to land it. Units, defaults and semantics: ``docs/workloads.md``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dagstorm.workloads.model.config import AdModelConfig, BadDataConfig, KeySkewConfig
from dagstorm.workloads.traffic.rates import (
    CompressionSpec,
    RatePlan,
    RateSpec,
    ScaleSpec,
    parse_rate,
)
from dagstorm.workloads.traffic.shapes import Shape

Format = Literal["jsonl", "parquet"]
DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday, 00:00 UTC


class SourceConfig(BaseModel):
    """What to generate: model, bad data, rate x scale x shape, simulated start, batching."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    seed: int = Field(0, ge=0, lt=2**63)
    rate: RateSpec = parse_rate("2TB/day")
    scale: ScaleSpec = 1.0
    time_compression: CompressionSpec = 1.0
    shape: Shape | None = None
    start: datetime = DEFAULT_START
    batch_rows: int = Field(65_536, ge=1, le=4_000_000)
    max_window_seconds: float = Field(10.0, gt=0.0, le=3600.0)
    model: AdModelConfig = AdModelConfig()
    bad_data: BadDataConfig = BadDataConfig()
    #: Hot keys: a share of the impressions on a few campaigns or ads (docs/workloads.md).
    skew: KeySkewConfig | None = None

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("start needs a time zone, e.g. 2026-01-05T00:00:00Z")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _hot_keys_exist(self) -> SourceConfig:
        if self.skew is not None and self.skew.hot_keys > self.model.campaigns:
            raise ValueError(
                f"skew.hot_keys ({self.skew.hot_keys}) exceeds model.campaigns "
                f"({self.model.campaigns})"
            )
        return self

    def rate_plan(self, record_bytes: float) -> RatePlan:
        """The rate resolved with a mean JSON record size (``jsonl.mean_record_bytes``)."""
        return RatePlan(self.rate, self.scale, self.time_compression, record_bytes)


class LandingConfig(BaseModel):
    """Where and how partitions are written."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    root: Path
    format: Format = "jsonl"
    part_max_bytes: int = Field(128 * 1024 * 1024, ge=1)
    fsync: bool = True
    drop_cache: bool = Field(
        True, description="evict a part file's pages after its fsync: the generator never rereads"
    )


class GeneratorConfig(SourceConfig):
    """A landing-zone workload: what to generate (:class:`SourceConfig`) and where."""

    landing: LandingConfig

    @model_validator(mode="after")
    def _malformed_needs_lines(self) -> GeneratorConfig:
        if self.landing.format == "parquet" and self.bad_data.malformed > 0:
            raise ValueError("bad_data.malformed needs landing.format jsonl (Parquet has no lines)")
        return self
