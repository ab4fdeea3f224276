"""The ``kind: locust`` scenario workload: Locust users in 1 master + N worker processes.

Light to import (pydantic and the shape models): scenario validation uses it.
Times are wall seconds like every workload ``start``/``duration``; the ``shape``
is evaluated at simulated seconds (wall × the scenario's ``time_compression``),
like the ad-log shapes. Reference: docs/locust.md.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dagstorm.core.durations import parse_duration
from dagstorm.stack.parts import Part
from dagstorm.workloads.model.config import AdModelConfig
from dagstorm.workloads.specs import WorkloadSpecBase
from dagstorm.workloads.traffic.shapes import Shape

Seconds = Annotated[float, Field(ge=0)]


def _seconds(value: Any) -> float:
    return parse_duration(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class KafkaUserSpec(_Strict):
    """Each user sends batches of ad events to a topic and waits for every ack.

    A *request* (in Locust's stats and in ``max_requests``) is one batch; its
    response time is from the first send to the last acknowledgement.
    """

    kind: Literal["kafka"] = "kafka"
    topic: str = Field("ad_events", pattern=r"^[A-Za-z0-9._-]{1,200}$")
    batch_records: int = Field(500, ge=1, le=20_000)
    acks: Literal["all", "1", "0"] = "all"
    compression: Literal["lz4", "zstd", "gzip", "none"] = "lz4"
    linger_ms: int = Field(10, ge=0, le=1000)
    batch_kib: int = Field(128, ge=1, le=4096)
    #: Seconds to wait for a batch's acks before counting the rest as failed.
    ack_timeout: float = Field(30.0, gt=0, le=300)
    #: Distinct records generated per process (then cycled) from the ad-log model.
    pool_records: int = Field(20_000, ge=100, le=1_000_000)
    model: AdModelConfig = AdModelConfig()


class TriggerUserSpec(_Strict):
    """Each user POSTs a DAG run with ``conf`` through Airflow's REST API, then waits."""

    kind: Literal["trigger"] = "trigger"
    dag: str = Field(min_length=1, max_length=250)
    conf: dict[str, Any] = Field(default_factory=dict)
    #: Mean wall seconds a user waits between triggers (uniform in [0.5x, 1.5x]).
    wait: Seconds = 1.0

    _w = field_validator("wait", mode="before")(_seconds)


UserSpec = Annotated[KafkaUserSpec | TriggerUserSpec, Field(discriminator="kind")]


class LocustWorkload(_Strict, WorkloadSpecBase):
    """Locust users driven by a dagstorm shape, headless, in 1 master + ``workers`` processes."""

    kind: Literal["locust"] = "locust"
    name: str = Field("locust", pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    user: UserSpec
    #: Worker processes (Locust's master adds one more, which sends nothing).
    workers: int = Field(1, ge=1, le=32)
    #: Users at shape value 1; the shape multiplies it (rounded, capped by max_users).
    users: int = Field(4, ge=1, le=10_000)
    max_users: int = Field(100, ge=1, le=10_000)
    spawn_rate: float = Field(10.0, gt=0, le=10_000)
    shape: Shape | None = None
    start: Seconds = 0.0
    duration: Seconds | None = None
    #: Upper bound on requests (Kafka batches or triggers) over all workers.
    max_requests: int = Field(10_000, ge=1, le=100_000_000)
    #: Wall seconds users get to finish a request in flight when the load stops.
    stop_timeout: Seconds = 30.0

    _t = field_validator("start", "stop_timeout", mode="before")(_seconds)

    @field_validator("duration", mode="before")
    @classmethod
    def _dur(cls, value: Any) -> float | None:
        return None if value is None else parse_duration(value)

    @model_validator(mode="after")
    def _bounds(self) -> LocustWorkload:
        if self.users > self.max_users:
            raise ValueError(f"users ({self.users}) is above max_users ({self.max_users})")
        return self

    def wall_window(self) -> tuple[float, float | None]:
        """From ``start`` for ``duration`` (wall seconds)."""
        return self.start, self.duration

    def needs(self) -> frozenset[Part]:
        """Kafka (kafka users) or Airflow's REST API (trigger users)."""
        return frozenset({"kafka"} if self.user.kind == "kafka" else {"airflow"})
