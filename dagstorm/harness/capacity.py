"""Run a breakpoint search: each step a real run, the answer in one search directory.

The scenario's ``capacity:`` block (:mod:`dagstorm.scenarios.capacity`) sets the
search; :class:`~dagstorm.analysis.capacity.search.BreakpointSearch` decides what
runs next. Each sub-run is the scenario itself with every rate-bearing workload's
``scale`` multiplied by the step's multiplier, named ``<scenario>-x<multiplier>``
and run by ``run_step`` (the library's :func:`~dagstorm.harness.flow.run_scenario`
on the real path; a fake in tests): a normal run directory with its result.json,
junit.xml and report.html. After a search that found an answer, ``verify`` runs
steady loads at ``below`` × the sustained and ``above`` × the breaking multiplier,
judged by the same step rule, within the same wall budget; a verify run that cannot
run ends the search with its exit code.

Before each sub-run, ``settle`` (when given: the CLI's ends them through Airflow's
REST API, :func:`dagstorm.engine.leftovers.end_runs`) ends the runs of the SLA's DAG
that earlier sub-runs triggered and left queued or running: a breaking step's
backlog would otherwise hold the DAG's active-run and pool slots in the next step.
They were counted already (each a miss of its own step); the search says how many
it ended.

The search directory ``RUNS_DIR/<UTC>-capacity-<scenario>/`` gets ``search.json``,
``junit.xml`` and ``capacity.html``; the history file one line. Nothing here
prints or exits: progress goes to ``echo``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from dagstorm.analysis.capacity.search import (
    BreakpointSearch,
    SearchSettings,
    SearchStep,
    SubRun,
)
from dagstorm.analysis.capacity.search_summary import (
    ANSWERED,
    CapacitySearchSummary,
    summarise,
)
from dagstorm.analysis.capacity.step_profile import StepProfile, profile_of
from dagstorm.analysis.capacity.step_rule import ComplianceTarget, decide_step
from dagstorm.analysis.outputs.capacity_search import sub_run_of, write_search_outputs
from dagstorm.analysis.rundata.declared import declared_of
from dagstorm.core.durations import duration_text
from dagstorm.core.errors import DagstormError, ExitCode, UsageError
from dagstorm.engine.leftovers import ACTIVE
from dagstorm.harness.flow import RunReport
from dagstorm.reports.capacity_search import write_search_page
from dagstorm.scenarios.capacity import CapacityBlock
from dagstorm.scenarios.loader import LoadedScenario, load_scenario
from dagstorm.scenarios.slos import SlaSlo

__all__ = [
    "CapacitySearchRun",
    "StepRunner",
    "run_capacity_search",
    "search_settings",
    "step_scenario",
]

#: Runs one step's scenario to its analysed run directory (the real path: run_scenario).
StepRunner = Callable[[LoadedScenario], RunReport]
#: Ends runs of a DAG (id, run ids) left queued or running; the run ids it ended.
Settle = Callable[[str, set[str]], list[str]]


@dataclass(frozen=True)
class CapacitySearchRun:
    """A finished search: its answer, where it was written, and the exit code."""

    summary: CapacitySearchSummary
    search_dir: Path
    page: Path
    exit_code: ExitCode


def search_settings(block: CapacityBlock, sla: SlaSlo) -> SearchSettings:
    """The controller's settings from the scenario's block and its SLA's target."""
    target = sla.target()
    if target.op not in (">=", ">"):
        raise UsageError(
            f"the SLA's compliance target {target.text!r} is not a lower bound",
            fix="write the SLA's compliance as '>= 95%' for a capacity search",
        )
    s = block.search
    return SearchSettings(
        target=ComplianceTarget(target.value, strict=target.op == ">"),
        start=s.start,
        growth=s.growth,
        ceiling=s.ceiling,
        min_runs=s.min_runs,
        tolerance=s.tolerance,
        budget_s=s.budget,
        max_sub_runs=s.max_sub_runs,
    )


def step_scenario(loaded: LoadedScenario, multiplier: float, *, tag: str = "x") -> LoadedScenario:
    """The scenario with each rate-bearing workload's scale × ``multiplier``, no capacity block."""
    raw = loaded.resolved.get("workloads") or []
    workloads: list[Any] = []
    for spec, item in zip(loaded.scenario.workloads, raw, strict=True):
        written = dict(item) if isinstance(item, dict) else item
        scale = getattr(spec, "scale", None)
        if isinstance(scale, float) and isinstance(written, dict):
            written["scale"] = scale * multiplier
        workloads.append(written)
    mark = f"{multiplier:.4g}".replace(".", "_").replace("+", "")
    name = f"{loaded.scenario.name[:48]}-{tag}{mark}"[:63]
    # Over the whole resolved scenario, not the file alone: overrides it was loaded with
    # (a suite's, a test's) stay.
    return load_scenario(
        loaded.path,
        overrides={**loaded.resolved, "name": name, "workloads": workloads, "capacity": None},
        override_positions=dict(loaded.positions),
    )


def run_capacity_search(
    loaded: LoadedScenario,
    *,
    run_step: StepRunner,
    runs_dir: Path,
    history: Path | None = None,
    echo: Callable[[str], None] = lambda _: None,
    monotonic: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    settle: Settle | None = None,
) -> CapacitySearchRun:
    """Search, verify, write the answer (module docstring); the finished search."""
    block = loaded.scenario.capacity
    if block is None:
        raise UsageError(
            f"{loaded.path} has no capacity: block",
            fix="add `capacity: {search: {ceiling: 32}}` (docs/capacity.md)",
        )
    sla = next((s for s in loaded.scenario.slos if isinstance(s, SlaSlo)), None)
    if sla is None:  # the loader refuses it already; a hand-built scenario may not
        raise UsageError("a capacity search needs an sla SLO", fix="see docs/capacity.md")
    settings = search_settings(block, sla)
    started_at = now()
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    search_dir = Path(runs_dir) / f"{stamp}-capacity-{loaded.scenario.name}"
    planned = loaded.scenario.duration + loaded.scenario.drain
    clock0 = monotonic()
    profiles: dict[str, StepProfile] = {}
    runner = _StepRuns(
        loaded,
        run_step=run_step,
        sla=sla,
        profiles=profiles,
        echo=echo,
        monotonic=monotonic,
        settle=settle,
    )
    search = BreakpointSearch(settings)
    echo(
        f"capacity search of {loaded.scenario.name}: from ×{settings.start:g} by"
        f" ×{settings.growth:g} to ×{settings.ceiling:g}, {settings.min_runs} runs a step,"
        f" tolerance {settings.tolerance * 100:g}%, budget {duration_text(settings.budget_s or 0)}"
    )
    # Bounded: at most max_steps steps of max_sub_runs sub-runs each (the controller's).
    for _ in range(settings.max_steps * settings.max_sub_runs + 1):
        # The next sub-run is expected to take as long as the longest so far (preflight,
        # drain and analysis included), and at least the scenario's duration + drain.
        multiplier = search.next_multiplier(monotonic() - clock0, planned)
        if multiplier is None:
            break
        sub = runner.run(multiplier, "x")
        planned = max(planned, sub.wall_s)
        step = search.record(sub)
        if step.decision is not None:
            echo(f"step ×{step.multiplier:.4g}: {step.decision.verdict} ({step.decision.reason})")
    result = search.result()
    echo(f"search ended: {result.ended} — {result.ended_text}")
    checks: list[tuple[Literal["below", "above"], float, SearchStep]] = []

    def room() -> bool:
        """Whether another sub-run fits in the budget (expected: the longest so far)."""
        return settings.fits(monotonic() - clock0, planned)

    # Only an answer is checked: a search the budget, a step not measured or the step
    # bound ended has none (exit 1 whatever a steady run would show).
    if block.verify is not None and result.ended in ANSWERED:
        wanted: list[tuple[Literal["below", "above"], float | None, float]] = [
            ("below", result.sustained, block.verify.below),
            ("above", result.breaking, block.verify.above),
        ]
        for name, base, factor in wanted:
            if base is None:
                continue  # no step held (or none broke): nothing to check on that side
            step = runner.verify(base * factor, settings, name, room)
            checks.append((name, base * factor, step))
            planned = max([planned, *(s.wall_s for s in step.sub_runs)])
            if any(s.error is not None for s in step.sub_runs):
                echo(f"verify {name} could not run: the other check is not run either")
                break
    spec = next((w for w in loaded.scenario.workloads if hasattr(w, "scale")), None)
    declared = declared_of(spec) if spec is not None else None
    target = block.search.target
    summary = summarise(
        scenario=loaded.scenario.name,
        started_at=started_at.isoformat(),
        wall_s=monotonic() - clock0,
        settings=settings,
        sla_text=f"{sla.dag} {sla.target().text}",
        result=result,
        profiles=profiles,
        declared=(None, None) if declared is None else (declared.rate_text, declared.bytes_per_s),
        target=(
            (None, None)
            if target is None
            else (str(target), target.per_second if target.unit == "bytes" else None)
        ),
        verify=checks,
    )
    write_search_outputs(search_dir, summary, history=history)
    page = write_search_page(search_dir, summary)
    echo(f"capacity search: exit {int(summary.exit_code)}; {page}")
    return CapacitySearchRun(summary, search_dir, page, summary.exit_code)


class _StepRuns:
    """Runs one sub-run at a multiplier and turns it into the controller's :class:`SubRun`."""

    def __init__(
        self,
        loaded: LoadedScenario,
        *,
        run_step: StepRunner,
        sla: SlaSlo,
        profiles: dict[str, StepProfile],
        echo: Callable[[str], None],
        monotonic: Callable[[], float],
        settle: Settle | None = None,
    ) -> None:
        self.loaded, self.run_step, self.sla = loaded, run_step, sla
        self.profiles, self.echo, self.monotonic = profiles, echo, monotonic
        self.settle = settle
        #: Runs of the SLA's DAG earlier sub-runs triggered and left queued or running.
        self.left: set[str] = set()

    def _settle(self) -> None:
        """End what earlier sub-runs left active (see the module docstring)."""
        if self.settle is None or not self.left:
            return
        left, self.left = self.left, set()
        try:
            ended = self.settle(self.sla.dag, left)
        except Exception as exc:  # noqa: BLE001 - reported; the next sub-run still runs
            self.echo(f"could not end the {len(left)} run(s) of {self.sla.dag} left: {exc!r}")
            return
        if ended:
            self.echo(
                f"ended {len(ended)} run(s) of {self.sla.dag} that earlier sub-runs left"
                " queued or running (each counted as a miss of its own step)"
            )

    def run(self, multiplier: float, tag: str) -> SubRun:
        """One sub-run at ``multiplier``; an error is a :class:`SubRun` with ``error``."""
        self._settle()
        began = self.monotonic()
        try:
            scenario = step_scenario(self.loaded, multiplier, tag=tag)
            self.echo(f"sub-run ×{multiplier:.4g}: {scenario.scenario.name}")
            report = self.run_step(scenario)
        except DagstormError as exc:
            return SubRun(0, 0, wall_s=self.monotonic() - began, error=exc.render())
        except KeyboardInterrupt:
            return SubRun(0, 0, wall_s=self.monotonic() - began, error="interrupted")
        sub = sub_run_of(report.result, wall_s=self.monotonic() - began)
        data = report.result.data
        if data is not None and sub.error is None:
            self.profiles[str(report.run_dir)] = profile_of(data, self.sla.dag)
        if data is not None and "triggered" in data.dag_runs:
            runs = data.dag_runs
            mine = runs[(runs["dag_id"] == self.sla.dag) & runs["triggered"].astype(bool)]
            self.left |= set(mine.loc[mine["state"].isin(ACTIVE), "run_id"].astype(str))
        self.echo(
            f"sub-run ×{multiplier:.4g}: {sub.met} met, {sub.missed} missed"
            + (f"; SLO failed: {', '.join(sub.slo_failures)}" if sub.slo_failures else "")
            + f" — {report.run_dir}"
        )
        return sub

    def verify(
        self, multiplier: float, settings: SearchSettings, name: str, room: Callable[[], bool]
    ) -> SearchStep:
        """A steady run (as many sub-runs as a step may take) judged by the step rule.

        A sub-run that would overrun the budget (``room()`` False) is not run: the
        check stays undecided, and the search says the budget ended it.
        """
        step = SearchStep(-1, multiplier, "verify")
        for _ in range(settings.max_sub_runs):
            if not room():
                self.echo(f"verify {name} ×{multiplier:.4g}: not run, the budget is spent")
                break
            sub = self.run(multiplier, f"verify-{name}-x")
            step.sub_runs.append(sub)
            if sub.error is not None:
                break
            decision = decide_step(
                step.counts(),
                settings.target,
                min_runs=settings.min_runs,
                max_sub_runs=settings.max_sub_runs,
            )
            if decision is not None:
                step.decision = decision
                break
        self.echo(f"verify {name} ×{multiplier:.4g}: {step.verdict}")
        return step
