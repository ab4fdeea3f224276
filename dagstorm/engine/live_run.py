"""What a run under way works with, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dagstorm.faults.manager import ActiveFault, FaultManager
from dagstorm.probes.base import Probe
from dagstorm.run.events import RunStatus
from dagstorm.run.journal import RunJournal
from dagstorm.workloads.base import Workload


@dataclass
class RunOutcome:
    """How a run ended."""

    run_dir: Path
    status: RunStatus
    reason: str = ""
    fault_errors: list[str] = field(default_factory=list)


@dataclass
class LiveRun:
    """What the timeline works with while a run is under way."""

    journal: RunJournal
    manager: FaultManager
    workloads: dict[str, Workload]
    outcome: RunOutcome
    probes: list[Probe] = field(default_factory=list)
    active: dict[str, ActiveFault] = field(default_factory=dict)
    #: fault id → description, for every fault injected (scheduled or ad-hoc).
    described: dict[str, str] = field(default_factory=dict)
    #: fault id → when (run s) to revert it: ad-hoc faults with a duration, and scheduled
    #: faults that took effect late (held their whole duration from then).
    deadlines: dict[str, float] = field(default_factory=dict)
    paused: bool = False
    adhoc_count: int = 0
