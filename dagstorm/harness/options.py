"""What a library run may add to a plain run, and what it may run with instead."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagstorm.analysis.outputs.baseline import Baseline
    from dagstorm.engine.preflight import ReachCheck
    from dagstorm.metrics.server import MetricsAddress
    from dagstorm.plugin.context import RunContext
    from dagstorm.probes.base import Probe
    from dagstorm.run.clock import Clock
    from dagstorm.workloads.base import Workload

#: Where the library's messages go (one line each, no trailing newline).
Echo = Callable[[str], None]


@dataclass
class RunOptions:
    """What `dagstorm run` and `dagstorm nightly` may add to a plain run."""

    #: Judge the run against this baseline (``baseline.json`` in the run directory).
    baseline: Baseline | None = None
    #: Append the run to this history file (None: record nothing).
    history: Path | None = None
    #: Serve live metrics in the Prometheus format here while the run is under way.
    metrics: MetricsAddress | None = None
    #: The suite the run belongs to (recorded in the history).
    suite: str | None = None
    #: A file the run directory's path is written to as soon as the run has started.
    announce: Path | None = None


@dataclass(frozen=True)
class EngineParts:
    """Parts the engine uses instead of its own: a clock, the workloads, the probes, reach.

    None keeps the engine's own (the wall clock; the scenario's workloads and
    probes). Tests run a scenario in no time with a ``FakeClock`` and no load.
    """

    clock: Clock | None = None
    workload_factory: Callable[[RunContext], list[Workload]] | None = None
    probe_factory: Callable[[RunContext], list[Probe]] | None = None
    #: How preflight asks a needed part of a non-embedded stack for an answer.
    reach: ReachCheck | None = None


__all__ = ["Echo", "EngineParts", "RunOptions"]
