"""The run context: everything a workload, fault or probe may use during one run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dagstorm.profiles.model import PipelineProfile
from dagstorm.run.clock import Clock
from dagstorm.run.journal import RunJournal
from dagstorm.run.rundir import RunDirectory
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack


@dataclass(frozen=True)
class RunContext:
    """One run's clock, journal, stack endpoints, directories and scenario-wide settings.

    The engine builds it once the run directory exists; workloads, faults and probes
    receive it instead of the engine, so they depend on nothing above them.
    """

    #: The run's one clock (wall time, and simulated time through the compression).
    clock: Clock
    #: The run's journal: every event goes here.
    journal: RunJournal
    #: Where each part of the stack is reached, with credentials (never journaled).
    stack: Stack
    #: This run's directory (``runs/<timestamp>-<scenario>/``).
    run_dir: Path
    #: The stack's state directory (landing zone, pid files, fault journal).
    state_dir: Path
    #: The scenario's seed: every generator derives its randomness from it.
    seed: int
    #: Simulated seconds per wall second.
    compression: float
    #: The run's planned wall duration in seconds.
    duration_s: float
    #: The scenario file, for error messages that point at it.
    scenario_path: Path
    #: The embedded stack (processes dagstorm owns), or None for compose/external.
    embedded: StackContext | None = None
    #: The pipeline profile under test (its DAGs, how their runs start), if any.
    pipeline: PipelineProfile | None = None

    @property
    def ledger_dir(self) -> Path:
        """The run's ground-truth ledger directory."""
        return RunDirectory(self.run_dir).ledger
