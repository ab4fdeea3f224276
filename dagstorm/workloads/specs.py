"""The built-in workloads' scenario entries (``workloads:`` items), as pydantic models.

Each names its ``kind``; seed and time compression are set once for the whole
scenario, at its top level, and handed to the workload by the engine.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dagstorm.core.durations import Seconds
from dagstorm.core.problems import raise_all
from dagstorm.stack.parts import Part
from dagstorm.workloads.config import Format, SourceConfig
from dagstorm.workloads.kafka.config import KafkaBurstConfig

#: ``trigger_dag``'s default: the pipeline profile's DAG that starts per partition.
PIPELINE_DAG = "@pipeline"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class WorkloadSpecBase(BaseModel):
    """What every workload entry of a scenario has: a ``kind`` and a ``name``.

    A plugin's workload spec subclasses it (with ``kind: Literal["my_kind"] =
    "my_kind"``); the engine starts it at the run's start and stops it at the end
    unless :meth:`wall_window` says otherwise.
    """

    #: The workload's kind (each subclass narrows it to one ``Literal``).
    kind: str
    #: Its name in the journal and the report (unique within a scenario).
    name: str

    def wall_window(self) -> tuple[float, float | None]:
        """When it runs: wall seconds from the start, and for how long (None: to the end)."""
        return 0.0, None

    def needs(self) -> frozenset[Part]:
        """The stack parts this workload talks to (a run refuses it where not declared)."""
        return frozenset()


class AdLogsWorkload(SourceConfig, WorkloadSpecBase):
    """Synthetic ad logs into the stack's landing zone (seed and compression: the scenario's)."""

    kind: Literal["ad_logs"] = "ad_logs"
    name: str = "ad-logs"
    format: Format = "jsonl"
    #: The DAG triggered for each finished partition (``conf.partition_hour``): by
    #: default the pipeline profile's DAG that starts ``per: partition``; null: none.
    trigger_dag: str | None = PIPELINE_DAG

    @model_validator(mode="after")
    def _no_own_seed(self) -> AdLogsWorkload:
        _no_own_seed(self, "AdLogsWorkload")
        return self

    def needs(self) -> frozenset[Part]:
        """A landing zone dagstorm writes, and Airflow when it triggers a DAG."""
        return frozenset({"landing_zone", "airflow"} if self.trigger_dag else {"landing_zone"})


def _no_own_seed(workload: BaseModel, title: str) -> None:
    raise_all(
        title,
        [
            ((name,), f"{name} is set once for the whole scenario, at the top level")
            for name in ("seed", "time_compression")
            if name in workload.model_fields_set
        ],
    )


class TriggerStormWorkload(_Strict, WorkloadSpecBase):
    """Many DAG runs started through Airflow's REST API (people triggering by hand).

    Each request triggers a run of ``dag`` with ``conf``; with ``asset``, it posts an
    event on that asset instead (``POST /api/v2/assets/events``), and the scheduler
    starts the runs of every DAG scheduled on it as it would for a producer's update
    (fewer runs than events: docs/own-pipeline.md). A DAG whose pipeline profile
    says ``start: {kind: asset}`` gets its asset by default.
    """

    kind: Literal["trigger_storm"] = "trigger_storm"
    name: str = "trigger-storm"
    dag: str
    #: Requests per wall second.
    rate: float = Field(gt=0, le=200)
    #: Upper bound on requests (every load loop is bounded).
    max_total: int = Field(1000, ge=1, le=100_000)
    start: Seconds = 0.0
    duration: Seconds | None = None
    conf: dict[str, Any] = Field(default_factory=dict)
    #: Post events on this asset (its name or URI) instead of triggering ``dag``.
    asset: str | None = Field(None, min_length=1, max_length=1500)

    @model_validator(mode="after")
    def _conf_or_asset(self) -> TriggerStormWorkload:
        if self.asset is not None and self.conf:
            raise_all(
                "TriggerStormWorkload",
                [(("conf",), "an asset event carries no run conf: give `conf` or `asset`")],
            )
        return self

    def wall_window(self) -> tuple[float, float | None]:
        """From ``start`` for ``duration`` (wall seconds)."""
        return self.start, self.duration

    def needs(self) -> frozenset[Part]:
        """Airflow's REST API."""
        return frozenset({"airflow"})


class KafkaBurstWorkload(KafkaBurstConfig, WorkloadSpecBase):
    """Ad events produced to Kafka in bursts, with completion signals (seed: the scenario's)."""

    kind: Literal["kafka_burst"] = "kafka_burst"
    name: str = "kafka-burst"

    @model_validator(mode="after")
    def _no_own_seed(self) -> KafkaBurstWorkload:
        _no_own_seed(self, "KafkaBurstWorkload")
        return self

    def needs(self) -> frozenset[Part]:
        """Kafka."""
        return frozenset({"kafka"})
