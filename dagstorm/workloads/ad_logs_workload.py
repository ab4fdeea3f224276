"""The `ad_logs` workload of a run: the generator paced on the run's clock.

Every wall interval it generates up to the current simulated time, emits
``workload_stats``, and for each partition finished since (its ``_SUCCESS``
written) emits ``partition_written`` and triggers the pipeline's hourly DAG for
that partition (``conf.partition_hour``), like an upstream system would.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from dagstorm.core.errors import ScenarioError
from dagstorm.plugin.context import RunContext
from dagstorm.run.clock import Clock
from dagstorm.run.events import DagTriggered, PartitionWritten, WorkloadStats
from dagstorm.run.journal import RunJournal
from dagstorm.stack.endpoints import Stack
from dagstorm.workloads.base import Workload
from dagstorm.workloads.config import GeneratorConfig, LandingConfig
from dagstorm.workloads.dag_trigger import DagTrigger
from dagstorm.workloads.sinks.generator import AdLogGenerator
from dagstorm.workloads.specs import PIPELINE_DAG, AdLogsWorkload

MARKER = "_SUCCESS"
#: The landing sub-directory the reference pipeline reads (docs/pipeline.md).
DATASET = "ad_logs"


class AdLogsRun(Workload):
    """Generates partitions into the landing zone and triggers the pipeline for each."""

    pausable = True

    def __init__(
        self,
        name: str,
        journal: RunJournal,
        clock: Clock,
        *,
        generator: AdLogGenerator,
        root: Path,
        stack: Stack,
        trigger_dag: str | None,
        interval: float = 1.0,
    ) -> None:
        super().__init__(name, journal, clock)
        self.generator = generator
        self.root = root
        self.trigger = DagTrigger(stack) if trigger_dag else None
        self.trigger_dag = trigger_dag
        self.interval = interval
        # Markers already there (an earlier run with the same start) count as new only
        # when this run rewrites them: a partition is finished when its marker changes.
        self._seen: dict[Path, int] = self._markers()

    @classmethod
    def from_spec(cls, spec: AdLogsWorkload, ctx: RunContext) -> AdLogsRun:
        """Build from the scenario (seed and compression from the scenario's top level)."""
        if ctx.stack.kind == "external":
            raise ScenarioError(
                "ad_logs needs a landing zone dagstorm can write; external stacks have none yet",
                where=str(ctx.scenario_path),
                fix="use the embedded or compose stack for ad_logs workloads",
            )
        root = ctx.state_dir / "landing" / DATASET
        root.mkdir(parents=True, exist_ok=True)
        source = spec.model_dump(exclude={"kind", "name", "format", "trigger_dag"})
        source.update(seed=ctx.seed, time_compression=ctx.compression)
        config = GeneratorConfig.model_validate(
            {**source, "landing": LandingConfig(root=root, format=spec.format)}
        )
        generator = AdLogGenerator(config, ledger_dir=ctx.ledger_dir)
        return cls(
            spec.name,
            ctx.journal,
            ctx.clock,
            generator=generator,
            root=root,
            stack=ctx.stack,
            trigger_dag=_trigger_dag(spec.trigger_dag, ctx),
        )

    def run(self) -> None:
        """Generate, report, trigger — until stopped; then finish the last partition.

        Paused, nothing is generated; the simulated time of the data then lags the
        run's by the time spent paused.
        """
        # Stats report the generator's totals in differences, so the samples add up to
        # every record and byte written, the last interval (up to the stop) included.
        reported_records = reported_bytes = 0
        last = self.clock.elapsed()
        try:
            while not self._stop.is_set():
                # Paused time is not generated: the data's simulated clock lags the run's
                # by the pauses, so a resume continues where it stopped, without a burst.
                last += self.wait_if_paused()  # the stats interval leaves the pause out
                sim = (self.clock.elapsed() - self.paused_seconds) * self.clock.compression
                self.generator.advance_to(sim, max_batches=512)
                now = self.clock.elapsed()
                if now - last >= self.interval:
                    reported_records, reported_bytes = self._stats_since(
                        reported_records, reported_bytes, now - last
                    )
                    last = now
                self._new_partitions()
                self.clock.wait(self._stop, min(0.2, self.interval))
        finally:
            self.generator.close()
            if (self.generator.records, self.generator.bytes) != (reported_records, reported_bytes):
                self._stats_since(
                    reported_records, reported_bytes, max(self.clock.elapsed() - last, 0.001)
                )
            self._new_partitions()
            if self.trigger is not None:
                self.trigger.close()

    def _stats_since(self, records: int, bytes_out: int, interval: float) -> tuple[int, int]:
        """Emit the records and bytes written since the totals ``records``, ``bytes_out``.

        Returns the generator's totals now (what has been reported).
        """
        total_records, total_bytes = self.generator.records, self.generator.bytes
        self.journal.emit(
            WorkloadStats(
                workload=self.name,
                workload_kind="ad_logs",
                records=total_records - records,
                bytes=total_bytes - bytes_out,
                interval_s=round(interval, 3),
                sim_generated_s=round(self.generator.sim_seconds, 1),
            )
        )
        return total_records, total_bytes

    def _markers(self) -> dict[Path, int]:
        found = {}
        for marker in self.root.glob(f"dt=*/hour=*/{MARKER}"):
            try:
                found[marker] = marker.stat().st_mtime_ns
            except FileNotFoundError:
                continue
        return found

    def _new_partitions(self) -> None:
        current = self._markers()
        fresh = sorted(m for m, stamp in current.items() if self._seen.get(m) != stamp)
        self._seen = current
        for marker in fresh:
            info = orjson.loads(marker.read_bytes())
            dt = marker.parent.parent.name.removeprefix("dt=")
            hour = int(marker.parent.name.removeprefix("hour="))
            self.journal.emit(
                PartitionWritten(
                    workload=self.name,
                    dt=dt,
                    hour=hour,
                    records=info.get("records"),
                    valid=info.get("valid"),
                    path=str(marker.parent),
                )
            )
            if self.trigger is not None and self.trigger_dag is not None:
                partition = f"{dt}T{hour:02d}"
                outcome = self.trigger.trigger(self.trigger_dag, {"partition_hour": partition})
                conf = {"partition_hour": partition}
                self.journal.emit(DagTriggered(**outcome.event(self.name, conf)))


def _trigger_dag(declared: str | None, ctx: RunContext) -> str | None:
    """The DAG to trigger per partition: as declared, or the pipeline profile's."""
    if declared != PIPELINE_DAG:
        return declared
    return None if ctx.pipeline is None else ctx.pipeline.partition_dag
