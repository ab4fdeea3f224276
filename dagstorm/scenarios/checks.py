"""Whole-scenario checks: what no single key can say is wrong.

Phases must add up to the run, faults and workloads must fit in it, names
must be unique (phases, workloads, faults, SLOs), and SLOs must be able to
pass and fail. A scenario without SLOs is a warning: its run has no verdict.

The checks take :class:`Parts`, the pieces of a scenario that are valid on
their own, so the loader can run them even when other keys are wrong and
report every problem at once. The scenario model runs them too (minus the
warnings), so a :class:`~dagstorm.scenarios.model.Scenario` built in code
holds the same promises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dagstorm.core.problems import KeyPath, show
from dagstorm.workloads.specs import WorkloadSpecBase

__all__ = ["Finding", "Parts", "check"]


@dataclass(frozen=True)
class Finding:
    """One whole-scenario problem, at a path of the scenario file."""

    path: KeyPath
    what: str
    fix: str
    warning: bool = False


@dataclass(frozen=True)
class Parts:
    """The valid pieces of a scenario, each with its index in the file's list.

    ``phases_complete`` is False when some phase is invalid (their sum means
    nothing then); ``slos_written`` counts the SLO items written, valid or not.
    """

    duration: float | None
    phases: Sequence[tuple[int, Any]]
    phases_complete: bool
    workloads: Sequence[tuple[int, WorkloadSpecBase]]
    faults: Sequence[tuple[int, Any]]
    slos: Sequence[tuple[int, Any]]
    slos_written: int
    #: The ``capacity:`` block when it is valid on its own (None: none, or invalid).
    capacity: Any = None

    @classmethod
    def of(cls, scenario: Any) -> Parts:
        """Every piece of a validated scenario."""
        return cls(
            duration=scenario.duration,
            phases=list(enumerate(scenario.phases)),
            phases_complete=True,
            workloads=list(enumerate(scenario.workloads)),
            faults=list(enumerate(scenario.faults)),
            slos=list(enumerate(scenario.slos)),
            slos_written=len(scenario.slos),
            capacity=scenario.capacity,
        )


def check(parts: Parts) -> list[Finding]:
    """Every whole-scenario finding, errors and warnings, in file order."""
    findings: list[Finding] = []
    findings += _phases(parts)
    findings += _workloads(parts)
    findings += _faults(parts)
    findings += _slos(parts)
    findings += _capacity(parts)
    return findings


def _duplicates(
    items: Sequence[tuple[int, str]], section: str, field: str | None, noun: str, fix: str
) -> list[Finding]:
    first: dict[str, int] = {}
    out: list[Finding] = []
    for index, name in items:
        if name in first:
            path: KeyPath = (section, index, field) if field else (section, index)
            out.append(
                Finding(
                    path,
                    f"two {noun} are named {show(name)} ({section}.{first[name]} too)",
                    fix,
                )
            )
        else:
            first[name] = index
    return out


def _phases(parts: Parts) -> list[Finding]:
    out = _duplicates(
        [(i, p.name) for i, p in parts.phases],
        "phases",
        "name",
        "phases",
        "give each phase its own name",
    )
    if parts.duration is not None and parts.phases and parts.phases_complete:
        total = sum(p.duration for _, p in parts.phases)
        if abs(total - parts.duration) > 1e-6:
            out.append(
                Finding(
                    ("duration",),
                    f"phases add up to {total:g} s but duration is {parts.duration:g} s",
                    "make the phases add up to `duration`, or change `duration`",
                )
            )
    return out


def _workloads(parts: Parts) -> list[Finding]:
    out = _duplicates(
        [(i, w.name) for i, w in parts.workloads],
        "workloads",
        "name",
        "workloads",
        "give each workload its own `name:`",
    )
    if parts.duration is None:
        return out
    for index, workload in parts.workloads:
        # The kind says when it runs (ad_logs' `start` is a simulated date: from 0).
        start, _length = workload.wall_window()
        if start > 0 and start >= parts.duration:
            out.append(
                Finding(
                    ("workloads", index, "start"),
                    f"{workload.kind} workload `{workload.name}` starts at {start:g} s, "
                    f"at or after the run ends ({parts.duration:g} s)",
                    "start it earlier or lengthen the run",
                )
            )
    return out


def _faults(parts: Parts) -> list[Finding]:
    out = _duplicates(
        [(i, plan.name or f"f{i + 1}") for i, plan in parts.faults],
        "faults",
        "name",
        "faults",
        "give each fault its own `name:` (results and the journal key on it)",
    )
    for index, plan in parts.faults:
        deprecated = plan.fault.deprecation()
        if deprecated is not None:
            key, what, fix = deprecated
            out.append(Finding(("faults", index, "fault", key), what, fix, warning=True))
    if parts.duration is None:
        return out
    for index, plan in parts.faults:
        if plan.at is not None:
            first, key, when = plan.at, "at", ""
        elif plan.window is not None:
            # The latest moment the seeded draw can pick.
            first = max(plan.window[0], plan.window[1] - plan.duration)
            key, when = "window", " at the latest"
        else:
            continue
        last = first + (plan.every or 0.0) * (plan.count - 1) + plan.duration
        if last > parts.duration:
            out.append(
                Finding(
                    ("faults", index, key),
                    f"fault `{plan.fault.describe()}` ends{when} at {last:g} s, after the run "
                    f"({parts.duration:g} s)",
                    "inject it earlier, hold it shorter, or lengthen the run",
                )
            )
    return out


def _slos(parts: Parts) -> list[Finding]:
    out = _duplicates(
        [(i, slo.name) for i, slo in parts.slos],
        "slos",
        None,
        "SLOs",
        "keep one: results and junit.xml name each SLO once",
    )
    for index, slo in parts.slos:
        if slo.type == "sla" and slo.target().value <= 0 and slo.target().op == ">=":
            out.append(
                Finding(
                    ("slos", index),
                    f"sla:{slo.dag} compliance {show(slo.compliance)} always passes",
                    "ask for the share of runs that must be on time, e.g. '>= 95%'",
                    warning=True,
                )
            )
    if parts.slos_written == 0:
        out.append(
            Finding(
                ("slos",),
                "no SLOs: only the findings judge the run (an interruption, a fault never"
                " reverted or never recovered, an error); no target is checked",
                "add e.g. `slos: [{lost_events: 0}]` (docs/scenarios.md)",
                warning=True,
            )
        )
    return out


def _capacity(parts: Parts) -> list[Finding]:
    """A search needs an SLA to judge steps by and a workload whose rate it can scale."""
    if parts.capacity is None:
        return []
    out = []
    if not any(slo.type == "sla" for _, slo in parts.slos):
        out.append(
            Finding(
                ("capacity",),
                "a capacity search judges each step by an `sla` SLO, and the scenario has none",
                "add e.g. `- sla: {dag: my_dag, within: 2h, compliance: '>= 95%'}`",
            )
        )
    if not any(hasattr(spec, "scale") for _, spec in parts.workloads):
        out.append(
            Finding(
                ("capacity",),
                "a capacity search multiplies a workload's `scale`, and no workload has one",
                "add a rate-bearing workload, e.g. `- {kind: ad_logs, rate: 2TB/day,"
                " scale: 1/20000}`",
            )
        )
    return out
