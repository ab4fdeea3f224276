"""The run directory as one typed object: every path in it, and creating one.

Layout (docs/journal.md)::

    runs/<UTC-timestamp>-<scenario-name>/
      scenario.yaml  journal.jsonl  ledger/ (kafka/, kafka/signals/)
      serving.parquet  partition_loads.parquet  stream_serving.parquet  stream_batches.parquet
      pipeline.json  output_checks.json
      result.json  junit.xml  report.html  control/  engine.log  baseline.json  locust/

:class:`RunDirectory` is the one definition of these names: the engine, control
and the output checks use its paths, and the readers' own constants (analysis,
reports, TUI) are taken from its names.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import yaml

from dagstorm.core.redaction import redact


@dataclass(frozen=True)
class RunDirectory:
    """``runs/<UTC timestamp>-<scenario>/`` and the files the engine and readers share."""

    #: The names of the files and directories in a run directory.
    SCENARIO: ClassVar[str] = "scenario.yaml"
    JOURNAL: ClassVar[str] = "journal.jsonl"
    LEDGER: ClassVar[str] = "ledger"
    #: Under the ledger: the ``kafka_burst`` workloads' ledger (the stream path).
    KAFKA_LEDGER: ClassVar[str] = "kafka"
    #: Under the Kafka ledger: one small ledger per cut of completion signals.
    SIGNAL_LEDGERS: ClassVar[str] = "signals"
    SERVING: ClassVar[str] = "serving.parquet"
    PARTITION_LOADS: ClassVar[str] = "partition_loads.parquet"
    STREAM_SERVING: ClassVar[str] = "stream_serving.parquet"
    STREAM_BATCHES: ClassVar[str] = "stream_batches.parquet"
    PIPELINE: ClassVar[str] = "pipeline.json"
    OUTPUT_CHECKS: ClassVar[str] = "output_checks.json"
    RESULT: ClassVar[str] = "result.json"
    JUNIT: ClassVar[str] = "junit.xml"
    REPORT: ClassVar[str] = "report.html"
    CONTROL: ClassVar[str] = "control"
    ENGINE_LOG: ClassVar[str] = "engine.log"
    BASELINE: ClassVar[str] = "baseline.json"
    LOCUST: ClassVar[str] = "locust"

    path: Path

    @property
    def name(self) -> str:
        """The directory's name (``<UTC timestamp>-<scenario>``)."""
        return self.path.name

    @property
    def scenario(self) -> Path:
        """The resolved scenario, secrets redacted."""
        return self.path / self.SCENARIO

    @property
    def journal(self) -> Path:
        """The append-only event journal."""
        return self.path / self.JOURNAL

    @property
    def ledger(self) -> Path:
        """Ground truth of generated, written and acknowledged data."""
        return self.path / self.LEDGER

    @property
    def kafka_ledger(self) -> Path:
        """The Kafka workloads' ledger (``ledger/kafka/``)."""
        return self.ledger / self.KAFKA_LEDGER

    @property
    def signal_ledgers(self) -> Path:
        """The cuts of completion signals (``ledger/kafka/signals/cut-NNNNN/``)."""
        return self.kafka_ledger / self.SIGNAL_LEDGERS

    @property
    def serving(self) -> Path:
        """What the pipeline loaded, read at the end of the run."""
        return self.path / self.SERVING

    @property
    def partition_loads(self) -> Path:
        """Per loaded partition: input, bad, valid and duplicate records."""
        return self.path / self.PARTITION_LOADS

    @property
    def stream_serving(self) -> Path:
        """What the streaming DAG loaded for this run's completion signals."""
        return self.path / self.STREAM_SERVING

    @property
    def stream_batches(self) -> Path:
        """Per loaded signal: the batch the streaming DAG wrote."""
        return self.path / self.STREAM_BATCHES

    @property
    def pipeline(self) -> Path:
        """The pipeline profile the run tested, as resolved (stage map, output checks)."""
        return self.path / self.PIPELINE

    @property
    def output_checks(self) -> Path:
        """The output checks' figures (counts, ids), read at the end of the run."""
        return self.path / self.OUTPUT_CHECKS

    @property
    def result(self) -> Path:
        """Measures and verdict (``dagstorm analyze`` writes it again)."""
        return self.path / self.RESULT

    @property
    def junit(self) -> Path:
        """The verdict as JUnit XML."""
        return self.path / self.JUNIT

    @property
    def report(self) -> Path:
        """The self-contained HTML report."""
        return self.path / self.REPORT

    @property
    def control(self) -> Path:
        """The control inbox's directory (docs/control.md)."""
        return self.path / self.CONTROL

    @property
    def engine_log(self) -> Path:
        """The engine's output when it ran under the TUI."""
        return self.path / self.ENGINE_LOG

    @property
    def baseline(self) -> Path:
        """The run it is judged against (``--baseline`` only)."""
        return self.path / self.BASELINE

    @property
    def locust(self) -> Path:
        """Locust workloads' configs and stats files, one sub-directory each."""
        return self.path / self.LOCUST

    def is_run(self) -> bool:
        """Whether a journal is there (what makes a directory a run directory)."""
        return self.journal.is_file()

    @classmethod
    def create(cls, runs_root: Path, scenario_name: str) -> RunDirectory:
        """A new ``<UTC timestamp>-<name>`` directory (a suffix is added if it exists)."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        base = runs_root / f"{stamp}-{scenario_name}"
        path, n = base, 1
        while path.exists():
            n += 1
            path = base.with_name(f"{base.name}-{n}")
        made = cls(path)
        made.ledger.mkdir(parents=True)
        return made

    def write_scenario(self, resolved: dict[str, Any], secrets: list[str]) -> None:
        """The resolved scenario, with any secret value replaced by ``***``."""
        text = yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.scenario.write_text(f"# resolved by dagstorm at {stamp}\n" + redact(text, secrets))
