"""The built-in workloads' scenario entries (``workloads:`` items), as pydantic models.

Each names its ``kind``; seed and time compression are set once for the whole
scenario, at its top level, and handed to the workload by the engine.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dagstorm.core.durations import parse_duration
from dagstorm.workloads.config import Format, SourceConfig
from dagstorm.workloads.kafka.config import KafkaBurstConfig

Seconds = Annotated[float, Field(ge=0)]


def _seconds(value: Any) -> float:
    return parse_duration(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AdLogsWorkload(SourceConfig):
    """Synthetic ad logs into the stack's landing zone (seed and compression: the scenario's)."""

    kind: Literal["ad_logs"] = "ad_logs"
    name: str = "ad-logs"
    format: Format = "jsonl"
    #: Trigger the pipeline's hourly DAG for each finished partition.
    trigger_dag: str | None = "ad_logs_hourly"

    @model_validator(mode="after")
    def _no_own_seed(self) -> AdLogsWorkload:
        fields = self.model_fields_set
        for name in ("seed", "time_compression"):
            if name in fields:
                raise ValueError(f"{name} is set once for the whole scenario, at the top level")
        return self


class TriggerStormWorkload(_Strict):
    """Many DAG runs triggered through Airflow's REST API (people triggering by hand)."""

    kind: Literal["trigger_storm"] = "trigger_storm"
    name: str = "trigger-storm"
    dag: str
    #: Triggers per wall second.
    rate: float = Field(gt=0, le=200)
    #: Upper bound on triggers (every load loop is bounded).
    max_total: int = Field(1000, ge=1, le=100_000)
    start: Seconds = 0.0
    duration: Seconds | None = None
    conf: dict[str, Any] = Field(default_factory=dict)

    _s = field_validator("start", mode="before")(_seconds)

    @field_validator("duration", mode="before")
    @classmethod
    def _dur(cls, value: Any) -> float | None:
        return None if value is None else parse_duration(value)


class KafkaBurstWorkload(KafkaBurstConfig):
    """Ad events produced to Kafka in bursts, with completion signals (seed: the scenario's)."""

    kind: Literal["kafka_burst"] = "kafka_burst"
    name: str = "kafka-burst"

    @model_validator(mode="after")
    def _no_own_seed(self) -> KafkaBurstWorkload:
        for name in ("seed", "time_compression"):
            if name in self.model_fields_set:
                raise ValueError(f"{name} is set once for the whole scenario, at the top level")
        return self
