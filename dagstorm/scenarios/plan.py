"""The resolved timeline of a scenario: what happens when, in wall and simulated time.

Random fault times (``window``) are drawn here, from the scenario's seed, so a
dry run shows exactly what the real run will do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

from dagstorm.core.durations import clock_text
from dagstorm.faults.specs import FaultSpecBase
from dagstorm.scenarios.model import FaultPlan, Scenario

ActionKind = Literal[
    "phase_start",
    "phase_end",
    "workload_start",
    "workload_stop",
    "fault_inject",
    "fault_revert",
    "run_end",
]
# Order of actions that share a moment: phases open first, faults revert before new ones.
_ORDER: dict[str, int] = {
    "phase_end": 0,
    "fault_revert": 1,
    "phase_start": 2,
    "workload_start": 3,
    "fault_inject": 4,
    "workload_stop": 5,
    "run_end": 6,
}


@dataclass(frozen=True)
class FaultWindow:
    """One occurrence of a planned fault."""

    key: str
    spec: FaultSpecBase
    start: float
    end: float

    @property
    def label(self) -> str:
        """``<key>: <description>``."""
        return f"{self.key}: {self.spec.describe()}"


@dataclass(frozen=True)
class Action:
    """One thing the runner does at wall second ``at``."""

    at: float
    kind: ActionKind
    name: str
    window: FaultWindow | None = None


@dataclass(frozen=True)
class Plan:
    """A scenario resolved into a timeline."""

    scenario: Scenario
    actions: list[Action]
    windows: list[FaultWindow] = field(default_factory=list)
    phases: list[tuple[str, float, float]] = field(default_factory=list)

    def sim(self, wall_seconds: float) -> float:
        """Simulated seconds for a wall offset."""
        return wall_seconds * self.scenario.time_compression


def _fault_starts(plan: FaultPlan, rng: random.Random) -> list[float]:
    if plan.at is not None:
        first = plan.at
    else:
        assert plan.window is not None  # one of them is required by the model
        low, high = plan.window
        first = rng.uniform(low, max(low, high - plan.duration))
    step = plan.every or 0.0
    return [first + i * step for i in range(plan.count)]


def build_plan(scenario: Scenario) -> Plan:
    """Resolve phases, workloads and faults into a sorted timeline."""
    actions: list[Action] = []
    phases: list[tuple[str, float, float]] = []
    start = 0.0
    for phase in scenario.phases or []:
        phases.append((phase.name, start, start + phase.duration))
        start += phase.duration
    if not phases:
        phases.append(("run", 0.0, scenario.duration))
    for name, begin, end in phases:
        actions.append(Action(begin, "phase_start", name))
        actions.append(Action(end, "phase_end", name))
    for workload in scenario.workloads:
        begin, length = workload.wall_window()  # ad_logs' `start` is simulated: whole run
        end = scenario.duration if not length else min(scenario.duration, begin + length)
        actions.append(Action(begin, "workload_start", workload.name))
        actions.append(Action(end, "workload_stop", workload.name))
    windows: list[FaultWindow] = []
    for index, fault_plan in enumerate(scenario.faults):
        rng = random.Random(f"{scenario.seed}:{index}")
        for occurrence, at in enumerate(_fault_starts(fault_plan, rng)):
            key = fault_plan.name or f"f{index + 1}"
            if fault_plan.count > 1:
                key = f"{key}.{occurrence + 1}"
            window = FaultWindow(key, fault_plan.fault, at, at + fault_plan.duration)
            windows.append(window)
            actions.append(Action(window.start, "fault_inject", window.label, window))
            actions.append(Action(window.end, "fault_revert", window.label, window))
    actions.append(Action(scenario.duration, "run_end", scenario.name))
    actions.sort(key=lambda a: (a.at, _ORDER[a.kind]))
    return Plan(scenario=scenario, actions=actions, windows=windows, phases=phases)


def timeline_rows(plan: Plan) -> list[tuple[str, str, str, str]]:
    """(wall, simulated, what, detail) rows for `run --dry-run`."""
    rows = []
    for action in plan.actions:
        what = action.kind.replace("_", " ")
        rows.append((clock_text(action.at), clock_text(plan.sim(action.at)), what, action.name))
    return rows


def plan_document(plan: Plan) -> dict[str, object]:
    """The plan as plain data, for `run --dry-run --json` (seconds are numbers)."""
    scenario = plan.scenario
    return {
        "scenario": scenario.name,
        "duration_s": scenario.duration,
        "sim_duration_s": plan.sim(scenario.duration),
        "time_compression": scenario.time_compression,
        "seed": scenario.seed,
        "phases": [
            {"name": name, "start_s": start, "end_s": end} for name, start, end in plan.phases
        ],
        "actions": [
            {
                "at_s": action.at,
                "sim_s": plan.sim(action.at),
                "kind": action.kind,
                "name": action.name,
            }
            for action in plan.actions
        ],
    }
