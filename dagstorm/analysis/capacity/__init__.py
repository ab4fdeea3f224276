"""Capacity, computed in the analysis: generated traffic vs target, and the ramp's answer.

- :mod:`.traffic`: per workload, the generated rate as measured (wall), derived
  (simulated) and extrapolated (full scale), against the declared target rate;
- :mod:`.ramp`: a capacity-ramp run's highest sustained rate within the SLA, where
  it broke, the stage whose time grew first, and the headroom (extrapolated);
- :mod:`.stages`: the pipeline stages the ramp times (the reference pipeline's
  task ids, hard-coded until issue 14's stage map);
- what the scenario declared (``scenario.yaml``, typed) is read with the run data
  (:mod:`dagstorm.analysis.rundata.declared`);
- :mod:`.compute`: :func:`capacity_of`, the :class:`Capacity` of ``Result.capacity``.

Definitions: docs/measures.md, section Capacity.
"""

from __future__ import annotations

from dagstorm.analysis.capacity.compute import Capacity, capacity_of
from dagstorm.analysis.capacity.ramp import Bottleneck, RampCapacity, RampStep
from dagstorm.analysis.capacity.traffic import WorkloadCapacity, WorkloadTotals
from dagstorm.analysis.rundata.stages import STAGES

__all__ = [
    "STAGES",
    "Bottleneck",
    "Capacity",
    "RampCapacity",
    "RampStep",
    "WorkloadCapacity",
    "WorkloadTotals",
    "capacity_of",
]
