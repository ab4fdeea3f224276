"""Configuration of the ``kafka_burst`` workload (pydantic v2, strict): light to import.

:class:`ProducerConfig` tunes kafka-python's producer and dagstorm's bounded
send buffer; :class:`SignalConfig` says when a completion signal goes to the
control topic; :class:`KafkaBurstConfig` adds both to an event source
(:class:`~dagstorm.workloads.config.SourceConfig`: same model, seed and rate
semantics as the landing generator). Units and defaults: ``docs/workloads.md``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dagstorm.core.durations import parse_duration
from dagstorm.core.problems import raise_all
from dagstorm.workloads.config import SourceConfig

Compression = Literal["none", "gzip", "lz4", "zstd"]
#: ``drop``: a record that finds the buffer full is dropped and counted;
#: ``backpressure``: the generator waits (at most ``block_timeout``) for room.
BufferPolicy = Literal["drop", "backpressure"]
_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
#: The compression codecs and the package kafka-python needs for each.
CODEC_PACKAGES = {"lz4": "lz4", "zstd": "zstandard", "gzip": None, "none": None}


def _seconds(value: Any) -> float:
    return parse_duration(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ProducerConfig(_Strict):
    """kafka-python producer settings and dagstorm's bounded in-memory send buffer.

    ``acks=all`` and idempotence are fixed: a record counts as delivered only when
    every in-sync replica has it, and producer retries never duplicate it.
    """

    batch_size: int = Field(256 * 1024, ge=1024, le=16 * 1024 * 1024)
    linger_ms: int = Field(20, ge=0, le=10_000)
    compression: Compression = "lz4"
    #: The bound on records (and value bytes) handed to the producer and not yet settled
    #: (kafka-python 3 has no ``buffer_memory``: this is the only bound).
    max_in_flight_records: int = Field(500_000, ge=1, le=50_000_000)
    max_in_flight_bytes: int = Field(128 * 1024 * 1024, ge=64 * 1024, le=2**33)
    policy: BufferPolicy = "backpressure"
    #: Longest a ``backpressure`` wait for room lasts before the records are dropped.
    block_timeout: float = Field(10.0, gt=0, le=600)
    #: Per request to the broker, and the bound on one record's delivery (retries included).
    request_timeout: float = Field(10.0, gt=0, le=300)
    delivery_timeout: float = Field(30.0, gt=0, le=600)
    #: Longest the final flush waits for outstanding acks; the rest count as unknown.
    close_timeout: float = Field(30.0, gt=0, le=600)
    #: Worker processes that encode chunks (JSON values, batches, compression) beside
    #: the sending process; 0: encoded by the sending thread itself.
    encode_workers: int = Field(0, ge=0, le=8)

    _t = field_validator(
        "block_timeout", "request_timeout", "delivery_timeout", "close_timeout", mode="before"
    )(_seconds)

    @model_validator(mode="after")
    def _coherent(self) -> ProducerConfig:
        findings: list[tuple[tuple[str | int, ...], str]] = []
        if self.delivery_timeout * 1000 < self.request_timeout * 1000 + self.linger_ms:
            findings.append(
                (
                    ("delivery_timeout",),
                    "delivery_timeout must be at least request_timeout + linger_ms "
                    f"({self.request_timeout:g} s + {self.linger_ms} ms)",
                )
            )
        if self.batch_size > self.max_in_flight_bytes:
            findings.append((("batch_size",), "batch_size must not exceed max_in_flight_bytes"))
        raise_all("ProducerConfig", findings)
        return self

    def kafka_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``KafkaProducer`` (bootstrap servers excluded)."""
        return {
            "acks": "all",
            "enable_idempotence": True,
            "batch_size": self.batch_size,
            "linger_ms": self.linger_ms,
            "compression_type": None if self.compression == "none" else self.compression,
            "request_timeout_ms": int(self.request_timeout * 1000),
            "delivery_timeout_ms": int(self.delivery_timeout * 1000),
            "max_block_ms": int(self.block_timeout * 1000),
        }


class SignalConfig(_Strict):
    """When a completion signal is sent: at each burst's end, and/or every N records / s."""

    #: A burst ends when the shape's rate reaches 0 after records were sent.
    on_burst_end: bool = True
    every_records: int | None = Field(None, ge=1, le=1_000_000_000)
    #: Wall seconds.
    every: float | None = Field(None, gt=0, le=86_400)
    #: signal_id prefix; the id is ``<prefix>-<run tag>-<n>``.
    prefix: str = Field("dagstorm", pattern=r"^[A-Za-z0-9._:-]{1,40}$")

    @field_validator("every", mode="before")
    @classmethod
    def _every(cls, value: Any) -> float | None:
        return None if value is None else parse_duration(value)


class KafkaBurstConfig(SourceConfig):
    """Ad events produced to Kafka: the source, the topics, the bounds, the producer."""

    #: Smaller batches than the landing zone's: records flow to Kafka in a steady stream.
    batch_rows: int = Field(8192, ge=1, le=4_000_000)
    max_window_seconds: float = Field(1.0, gt=0.0, le=3600.0)
    topic: str = "ad_events"
    control_topic: str | None = "ad_events_control"
    #: Upper bound on records generated (every load loop is bounded).
    max_records: int = Field(10_000_000, ge=1, le=10_000_000_000)
    #: Upper bound in wall seconds (None: until the run stops the workload).
    max_duration: float | None = Field(None, gt=0, le=7 * 86_400)
    producer: ProducerConfig = ProducerConfig()
    signal: SignalConfig = SignalConfig()

    @field_validator("max_duration", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float | None:
        return None if value is None else parse_duration(value)

    @field_validator("topic", "control_topic")
    @classmethod
    def _topic(cls, value: str | None) -> str | None:
        if value is not None and not _TOPIC.match(value):
            raise ValueError(f"topic {value!r}: 1-249 characters of [A-Za-z0-9._-]")
        return value

    @model_validator(mode="after")
    def _distinct_topics(self) -> KafkaBurstConfig:
        if self.control_topic == self.topic:
            raise ValueError("control_topic must differ from topic")
        return self
