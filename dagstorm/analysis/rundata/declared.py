"""What the scenario declared about its workloads: read from ``scenario.yaml``, typed.

The run directory's ``scenario.yaml`` (the resolved scenario, secrets redacted) is
read with the scenario loader into :class:`~dagstorm.scenarios.model.Scenario`;
``run_start`` does not carry the workloads. Only what a workload *wrote* counts as
declared (a rate or scale left to its default is "none declared").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from dagstorm.core.errors import DagstormError
from dagstorm.run.rundir import RunDirectory
from dagstorm.scenarios.loader import load_scenario
from dagstorm.workloads.config import SourceConfig
from dagstorm.workloads.kinds import WorkloadSpec

__all__ = ["SCENARIO_FILE", "Declared", "declared_of", "first_by_kind", "read_workloads"]

SCENARIO_FILE = RunDirectory.SCENARIO


@dataclass(frozen=True)
class Declared:
    """A workload's declared production rate (bytes) and scale, when it wrote them."""

    rate_text: str | None
    bytes_per_s: float | None
    scale: float | None


def read_workloads(run_dir: Path) -> tuple[tuple[WorkloadSpec, ...], str | None]:
    """The scenario's workloads, and why there are none (None when it was read)."""
    path = RunDirectory(Path(run_dir)).scenario
    if not path.is_file():
        return (), f"no {SCENARIO_FILE} in the run directory"
    try:
        loaded = load_scenario(path, env={}, pipeline=False)
    except DagstormError as exc:
        return (), f"{SCENARIO_FILE} unreadable: {exc.what}"
    return tuple(loaded.scenario.workloads), None


def declared_of(spec: BaseModel) -> Declared:
    """The byte rate and scale ``spec`` wrote (an event rate is no byte target)."""
    if not isinstance(spec, SourceConfig):
        return Declared(None, None, None)
    written = spec.model_fields_set
    scale = spec.scale if "scale" in written else None
    if "rate" not in written or spec.rate.unit != "bytes":
        return Declared(None, None, scale)
    return Declared(spec.rate.text, spec.rate.per_second, scale)


def first_by_kind(workloads: Sequence[WorkloadSpec]) -> dict[str, Declared]:
    """Workload kind → the declaration of its first workload with a byte rate."""
    out: dict[str, Declared] = {}
    for spec in workloads:
        declared = declared_of(spec)
        if declared.bytes_per_s is not None:
            out.setdefault(spec.kind, declared)
    return out
