"""The run directory as one typed object: every path in it, and creating one.

Layout (docs/journal.md)::

    runs/<UTC-timestamp>-<scenario-name>/
      scenario.yaml  journal.jsonl  ledger/  serving.parquet  partition_loads.parquet
      stream_serving.parquet  stream_batches.parquet
      result.json  junit.xml  report.html  control/  engine.log  baseline.json  locust/
    runs/history.jsonl

Everything that writes or reads a run directory names its files through
:class:`RunDirectory` (and the runs root through :class:`RunsRoot`), never with
string literals of its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from dagstorm.core.redaction import redact


@dataclass(frozen=True)
class RunDirectory:
    """``runs/<UTC timestamp>-<scenario>/`` and the files the engine and readers share."""

    path: Path

    @property
    def name(self) -> str:
        """The directory's name (``<UTC timestamp>-<scenario>``)."""
        return self.path.name

    @property
    def scenario(self) -> Path:
        """The resolved scenario, secrets redacted."""
        return self.path / "scenario.yaml"

    @property
    def journal(self) -> Path:
        """The append-only event journal."""
        return self.path / "journal.jsonl"

    @property
    def ledger(self) -> Path:
        """Ground truth of generated, written and acknowledged data."""
        return self.path / "ledger"

    @property
    def serving(self) -> Path:
        """What the pipeline loaded, read at the end of the run."""
        return self.path / "serving.parquet"

    @property
    def partition_loads(self) -> Path:
        """Per loaded partition: input, bad, valid and duplicate records."""
        return self.path / "partition_loads.parquet"

    @property
    def stream_serving(self) -> Path:
        """What the streaming DAG loaded for this run's completion signals."""
        return self.path / "stream_serving.parquet"

    @property
    def stream_batches(self) -> Path:
        """Per loaded signal: the batch the streaming DAG wrote."""
        return self.path / "stream_batches.parquet"

    @property
    def result(self) -> Path:
        """Measures and verdict (``dagstorm analyze`` writes it again)."""
        return self.path / "result.json"

    @property
    def junit(self) -> Path:
        """The verdict as JUnit XML."""
        return self.path / "junit.xml"

    @property
    def report(self) -> Path:
        """The self-contained HTML report."""
        return self.path / "report.html"

    @property
    def control(self) -> Path:
        """The control inbox's directory (docs/control.md)."""
        return self.path / "control"

    @property
    def engine_log(self) -> Path:
        """The engine's output when it ran under the TUI."""
        return self.path / "engine.log"

    @property
    def baseline(self) -> Path:
        """The run it is judged against (``--baseline`` only)."""
        return self.path / "baseline.json"

    @property
    def locust(self) -> Path:
        """Locust workloads' configs and stats files, one sub-directory each."""
        return self.path / "locust"

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


@dataclass(frozen=True)
class RunsRoot:
    """The directory that holds the run directories (``runs/``) and their history."""

    path: Path

    @property
    def history(self) -> Path:
        """One line per finished run (docs/trends.md)."""
        return self.path / "history.jsonl"

    def run(self, name: str) -> RunDirectory:
        """The run directory called ``name``."""
        return RunDirectory(self.path / name)
