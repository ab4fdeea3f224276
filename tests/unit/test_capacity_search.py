"""The breakpoint search's state machine and its early-stop rule, against fake pipelines."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagstorm.analysis.capacity.search import (
    BreakpointSearch,
    SearchResult,
    SearchSettings,
    SubRun,
)
from dagstorm.analysis.capacity.step_rule import (
    ComplianceTarget,
    StepCounts,
    allowed_misses,
    decide_step,
)

P95 = ComplianceTarget(0.95)
P80 = ComplianceTarget(0.80)

#: A fake pipeline: multiplier → the sub-run it produces.
Pipeline = Callable[[float], SubRun]


def limit_at(limit: float, runs: int = 5, wall_s: float = 100.0) -> Pipeline:
    """Every run meets the SLA below ``limit``, every run misses at or above it."""

    def sub_run(m: float) -> SubRun:
        met = runs if m < limit else 0
        return SubRun(met=met, missed=runs - met, wall_s=wall_s)

    return sub_run


def drive(search: BreakpointSearch, pipeline: Pipeline, *, bound: int = 200) -> SearchResult:
    """Run the search against ``pipeline`` as the orchestrator does (bounded)."""
    elapsed = 0.0
    for _ in range(bound):
        multiplier = search.next_multiplier(elapsed, 100.0)
        if multiplier is None:
            return search.result()
        sub_run = pipeline(multiplier)
        elapsed += sub_run.wall_s
        search.record(sub_run)
    raise AssertionError("the search did not end within the bound")


def multipliers(result: SearchResult) -> list[float]:
    return [round(s.multiplier, 4) for s in result.steps]


# --- the step rule -------------------------------------------------------------------


def test_allowed_misses() -> None:
    assert allowed_misses(P95, 5) == 0  # 4/5 = 80% < 95%
    assert allowed_misses(P95, 20) == 1  # 19/20 = 95% exactly
    assert allowed_misses(P80, 5) == 1
    assert allowed_misses(ComplianceTarget(1.0), 5) == 0
    assert allowed_misses(ComplianceTarget(0.95, strict=True), 20) == 0
    assert allowed_misses(ComplianceTarget(0.0), 3) == 3
    with pytest.raises(ValueError, match="min_runs"):
        allowed_misses(P95, 0)


def decide(met: int, missed: int, sub_runs: int = 1, failures: tuple[str, ...] = ()) -> str:
    decision = decide_step(
        StepCounts(met, missed, failures, sub_runs), P80, min_runs=5, max_sub_runs=3
    )
    return "undecided" if decision is None else decision.verdict


def test_the_early_stop_rule() -> None:
    # P80 over N = 5 allows one miss.
    assert decide(2, 0) == "undecided"
    assert decide(2, 1) == "undecided"
    assert decide(0, 2) == "breaks"  # two misses: 3/5 at best
    assert decide(4, 0) == "holds"  # 4/5 at worst
    assert decide(5, 0) == "holds"
    assert decide(4, 1) == "holds"
    assert decide(3, 2) == "breaks"
    # N or more counted: the compliance decides (here 16/20 = 80% holds despite 4 misses).
    assert decide(16, 4) == "holds"
    assert decide(15, 5) == "breaks"
    # Another SLO failing breaks the step whatever the SLA says.
    assert decide(5, 0, failures=("lost_events",)) == "breaks"
    # Out of sub-runs: no run is not measured; some runs are judged on what they are.
    assert decide(0, 0, sub_runs=2) == "undecided"
    assert decide(0, 0, sub_runs=3) == "not measured"
    assert decide(3, 0, sub_runs=3) == "holds"
    assert decide(2, 1, sub_runs=3) == "breaks"


@pytest.mark.parametrize("target", [ComplianceTarget(0.0), ComplianceTarget(1.0, strict=True)])
def test_a_step_without_runs_is_never_decided_early(target: ComplianceTarget) -> None:
    """0% lets every run miss and > 100% none meet: still no verdict on no run."""
    for sub_runs in (1, 2):
        counts = StepCounts(0, 0, (), sub_runs)
        assert decide_step(counts, target, min_runs=5, max_sub_runs=3) is None
    last = decide_step(StepCounts(0, 0, (), 3), target, min_runs=5, max_sub_runs=3)
    assert last is not None and last.verdict == "not measured"


def test_decisions_say_why_and_whether_early() -> None:
    early = decide_step(StepCounts(0, 2, (), 1), P80, min_runs=5, max_sub_runs=3)
    assert early is not None and early.early
    assert "0/2 runs met the SLA (target >= 80%)" in early.reason
    assert "exceed the 1 that 5 runs may have" in early.reason
    full = decide_step(StepCounts(5, 0, (), 1), P80, min_runs=5, max_sub_runs=3)
    assert full is not None and not full.early
    short = decide_step(StepCounts(3, 0, (), 3), P80, min_runs=5, max_sub_runs=3)
    assert short is not None and "only 3 of 5 runs" in short.reason
    slo = decide_step(StepCounts(1, 0, ("lag", "lag"), 1), P80, min_runs=5, max_sub_runs=3)
    assert slo is not None and slo.reason == "SLO failed: lag"


def test_a_target_is_a_share() -> None:
    with pytest.raises(ValueError, match="share"):
        ComplianceTarget(95.0)
    assert ComplianceTarget(0.95).meets(19 / 20) and not ComplianceTarget(0.95).meets(18 / 20)
    assert ComplianceTarget(0.95).text == ">= 95%"


# --- the search ----------------------------------------------------------------------


def test_ceiling_reached_with_no_break() -> None:
    search = BreakpointSearch(SearchSettings(P95, start=1, growth=2, ceiling=20))
    result = drive(search, limit_at(1000))
    # Geometric growth, clamped to the ceiling, which is run once and held.
    assert multipliers(result) == [1, 2, 4, 8, 16, 20]
    assert (result.sustained, result.breaking, result.ended) == (20, None, "ceiling")
    assert not result.bounded_by_wall and result.width is None
    assert all(s.verdict == "holds" for s in result.steps)
    assert search.next_multiplier(0, 100) is None and search.done


def test_first_step_breaks() -> None:
    result = drive(BreakpointSearch(SearchSettings(P95, start=2)), limit_at(1.5))
    assert multipliers(result) == [2]
    assert (result.sustained, result.breaking, result.ended) == (None, 2, "first step broke")
    assert "limit is below" in result.ended_text


def test_grows_then_bisects_until_within_the_tolerance() -> None:
    search = BreakpointSearch(SearchSettings(P95, start=1, growth=2, ceiling=32, tolerance=0.15))
    result = drive(search, limit_at(5.3))
    steps = multipliers(result)
    assert steps[:4] == [1, 2, 4, 8]
    # Bisection between 4 (held) and 8 (broke) by the geometric mean: 5.657, then 4.757, …
    assert steps[4] == pytest.approx(math.sqrt(32), abs=1e-3)
    assert steps[5] == pytest.approx(math.sqrt(4 * math.sqrt(32)), abs=1e-3)
    assert [s.phase for s in result.steps] == ["grow"] * 4 + ["bisect"] * (len(steps) - 4)
    assert result.ended == "converged"
    assert result.sustained is not None and result.breaking is not None
    assert result.sustained < 5.3 <= result.breaking
    assert result.width is not None and result.width <= 0.15
    # Each step was decided by one sub-run of 5 runs.
    assert all(len(s.sub_runs) == 1 and s.interval is not None for s in result.steps)


def test_budget_exhausted_mid_bisection() -> None:
    # 2 runs per sub-run: a holding step needs 3 sub-runs for N = 5; a break is decided
    # by its first miss. Budget 1000 s at 100 s a sub-run: 10 sub-runs.
    search = BreakpointSearch(SearchSettings(P95, ceiling=32, budget_s=1000.0))
    result = drive(search, limit_at(5.3, runs=2))
    # ×1, ×2, ×4 hold (9 sub-runs), ×8 breaks (1): the 11th would overrun the budget.
    assert multipliers(result) == [1, 2, 4, 8]
    assert result.ended == "budget" and result.bounded_by_wall
    assert "wall budget ended the search" in result.ended_text
    assert (result.sustained, result.breaking) == (4, 8)
    # A larger budget stops mid-step: the bisection's step is left undecided.
    # 1250 s: ×5.657 breaks in the 11th sub-run, ×4.757 (holding: 3 needed) gets one.
    search = BreakpointSearch(SearchSettings(P95, ceiling=32, budget_s=1250.0))
    result = drive(search, limit_at(5.3, runs=2))
    assert result.ended == "budget"
    last = result.steps[-1]
    assert last.phase == "bisect" and last.verdict == "undecided" and len(last.sub_runs) == 1
    assert result.sustained == 4
    assert result.breaking == pytest.approx(math.sqrt(32))
    assert last.multiplier == pytest.approx(math.sqrt(4 * math.sqrt(32)))


def test_an_unmeasured_step_ends_the_search_and_is_no_failure() -> None:
    def pipeline(m: float) -> SubRun:
        return SubRun(met=0, missed=0) if m >= 4 else SubRun(met=5, missed=0)

    result = drive(BreakpointSearch(SearchSettings(P95, ceiling=32, max_sub_runs=2)), pipeline)
    assert multipliers(result) == [1, 2, 4]
    last = result.steps[-1]
    assert last.verdict == "not measured" and len(last.sub_runs) == 2 and last.interval is None
    assert (result.sustained, result.breaking, result.ended) == (2, None, "not measured")
    assert "lengthen" in result.ended_text


def test_another_slo_breaks_a_step() -> None:
    def pipeline(m: float) -> SubRun:
        return SubRun(met=5, missed=0, slo_failures=("lost_events",) if m >= 2 else ())

    result = drive(BreakpointSearch(SearchSettings(P95, ceiling=2, tolerance=1.5)), pipeline)
    assert (result.sustained, result.breaking, result.ended) == (1, 2, "converged")
    assert result.steps[-1].decision is not None
    assert result.steps[-1].decision.reason == "SLO failed: lost_events"


def test_a_sub_run_error_ends_the_search() -> None:
    search = BreakpointSearch(SearchSettings(P95))
    assert search.next_multiplier(0, 10) == 1
    search.record(SubRun(0, 0, error="infrastructure error"))
    result = search.result()
    assert result.ended == "error" and "infrastructure error" in result.ended_text
    assert search.next_multiplier(0, 10) is None
    with pytest.raises(RuntimeError):
        search.record(SubRun(5, 0))


def test_max_steps_bounds_the_search() -> None:
    result = drive(
        BreakpointSearch(SearchSettings(P95, growth=1.01, ceiling=1000, max_steps=4)),
        limit_at(999),
    )
    assert len(result.steps) == 4 and result.ended == "max steps"


def test_result_before_the_end_says_so() -> None:
    result = BreakpointSearch(SearchSettings(P95)).result()
    assert result.ended == "in progress" and not result.bounded_by_wall and result.steps == ()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start": 0}, "start"),
        ({"growth": 1}, "growth"),
        ({"ceiling": 0.5}, "ceiling"),
        ({"min_runs": 0}, "min_runs"),
        ({"tolerance": 0}, "tolerance"),
        ({"budget_s": -1.0}, "budget"),
    ],
)
def test_bad_settings_are_refused(changes: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SearchSettings(P95, **changes)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(
    limit=st.floats(min_value=1.01, max_value=31.0),
    growth=st.sampled_from([1.5, 2.0, 3.0]),
    tolerance=st.sampled_from([0.05, 0.15, 0.3]),
)
def test_a_converged_answer_brackets_the_limit(
    limit: float, growth: float, tolerance: float
) -> None:
    result = drive(
        BreakpointSearch(
            SearchSettings(P95, growth=growth, ceiling=32, tolerance=tolerance, max_steps=40)
        ),
        limit_at(limit),
    )
    assert result.ended == "converged"
    assert result.sustained is not None and result.breaking is not None
    assert result.sustained < limit <= result.breaking
    assert result.breaking / result.sustained - 1 <= tolerance + 1e-9
