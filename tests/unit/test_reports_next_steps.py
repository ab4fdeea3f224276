"""What next (analysis and report), sample size, fault impact wording, readable numbers."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from html import unescape
from pathlib import Path

import orjson
import pytest

from dagstorm.analysis import analyze, write_result
from dagstorm.analysis.capacity import Bottleneck, RampCapacity, RampStep
from dagstorm.analysis.outputs import next_steps as next_steps_module
from dagstorm.analysis.outputs.next_steps import next_steps
from dagstorm.analysis.outputs.result import Result
from dagstorm.analysis.outputs.story import run_story
from dagstorm.analysis.outputs.summary import outcome_line
from dagstorm.analysis.texts import plain_number, scale_text
from dagstorm.analysis.verdict.sample_size import runs_needed, sample_note
from dagstorm.reports import render_report
from dagstorm.scenarios.comparisons import parse_target

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SMOKE = FIXTURES / "report_runs" / "20261124T041804Z-smoke"
BROKER_OUTAGE = FIXTURES / "journals" / "broker_outage"


@pytest.fixture
def smoke(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SMOKE, tmp_path / SMOKE.name))


@pytest.fixture
def outage(tmp_path: Path) -> Result:
    run_dir = Path(shutil.copytree(BROKER_OUTAGE, tmp_path / "20260301T220000Z-outage"))
    return analyze(run_dir)


def _text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_what_next_names_the_closest_slo_the_worst_fault_and_the_sample(outage: Result) -> None:
    steps = outage.next_steps
    assert steps is not None
    assert steps.closest_slo is not None
    assert steps.closest_slo.name == "scheduler_throughput"  # 1/min against >= 1/min
    assert steps.closest_slo.margin == 0
    assert steps.worst_fault is not None
    assert steps.worst_fault.fault_id == "f-broker-1"
    assert (steps.worst_fault.sla_misses, steps.worst_fault.retries) == (1, 1)
    topics = [a.topic for a in steps.advice]
    assert topics[0] == "failed_slo"  # the failed SLA comes first
    assert {"closest_slo", "sample", "fault"} <= set(topics)
    # result.json carries the same advice the report draws
    write_result(outage.run_dir, outage)
    document = orjson.loads((outage.run_dir / "result.json").read_bytes())
    assert [a["finding"] for a in document["next_steps"]["advice"]] == [
        a.finding for a in steps.advice
    ]
    html = render_report(outage.run_dir, outage)
    assert 'id="what-next"' in html
    text = _text(html)
    for advice in steps.advice:
        assert advice.finding in text


def test_the_fault_with_failed_runs_hurt_most_and_quiet_faults_say_so(outage: Result) -> None:
    measures = outage.measures
    overall = measures.recovery_for(None)
    real = overall.faults[0]
    quiet = replace(
        real, fault_id="quiet", retries=0, failed_runs=(), throughput_drop=0.0, horizon_t=-1.0
    )
    failing = replace(quiet, fault_id="failing", failed_runs=("d/r1", "d/r2"))
    both = replace(measures, recovery=(replace(overall, faults=(quiet, failing)),))
    steps = next_steps(outage.scenario.slos, outage.verdict, both, None)
    assert steps.worst_fault is not None and steps.worst_fault.fault_id == "failing"
    only_quiet = replace(measures, recovery=(replace(overall, faults=(quiet,)),))
    steps = next_steps(outage.scenario.slos, outage.verdict, only_quiet, None)
    assert steps.worst_fault is None
    assert not steps.faults[0].visible
    assert any(a.finding.startswith("No fault had a visible impact") for a in steps.advice)


def test_the_stage_that_grew_first_gets_advice(outage: Result) -> None:
    steps = tuple(
        RampStep(k, 1.0 + k, k * 60.0, (k + 1) * 60.0, 1e6, 4, 1.0, {}, True) for k in range(3)
    )
    ramp = RampCapacity(
        workload="w",
        dag_id="d",
        target_text=">= 95%",
        steps=steps,
        sustained=2,
        broke=None,
        bottleneck=Bottleneck("queueing", 2, 600.0),
        compression=10.0,
        scale=None,
        declared_text=None,
        declared_bytes_per_s=None,
        sustained_sim_bytes_per_s=None,
        full_scale_bytes_per_s=None,
        headroom=None,
    )
    result = next_steps(outage.scenario.slos, outage.verdict, outage.measures, ramp)
    assert result.first_growth is not None
    assert (result.first_growth.stage, result.first_growth.step) == ("queueing", 3)
    stage = [a for a in result.advice if a.topic == "stage"]
    assert "queueing grew first: +10m sim per run at ramp step 3 (×3" in stage[0].finding
    assert "executor parallelism" in stage[0].advice


def test_advice_names_no_reference_pipeline() -> None:
    source = Path(next_steps_module.__file__).read_text(encoding="utf-8").lower()
    for name in ("ad_logs", "ad_events", "hourly", "serving_db", "campaign", "kafka", "broker"):
        assert name not in source


def test_runs_needed_for_one_miss_to_matter() -> None:
    assert runs_needed(parse_target(">= 95%", unit="percent")) == 20
    assert runs_needed(parse_target("> 95%", unit="percent")) == 21
    assert runs_needed(parse_target(">= 99%", unit="percent")) == 100
    assert runs_needed(parse_target(">= 100%", unit="percent")) is None
    target = parse_target(">= 95%", unit="percent")
    assert sample_note(20, target) is None
    note = sample_note(2, target)
    assert note is not None and "finest step is 50%" in note and "at least 20 runs" in note


def test_a_small_sla_sample_is_said_in_the_slo_detail(smoke: Path) -> None:
    result = analyze(smoke)
    sla = next(v for v in result.verdict.slos if v.type == "sla")
    assert "sample too small to support the target: with 2 runs the finest step is 50%" in (
        sla.detail
    )
    assert "sample too small" in _text(render_report(smoke, result))


def test_a_fault_without_retries_or_failures_has_no_visible_impact(outage: Result) -> None:
    measures = outage.measures
    overall = measures.recovery_for(None)
    calm = replace(
        overall,
        retries=0,
        runs_retried=0,
        failed_runs=0,
        faults=tuple(
            replace(f, retries=0, failed_runs=(), stages=(), throughput_drop=0.05)
            for f in overall.faults
        ),
    )
    story = run_story(replace(measures, recovery=(calm,)), outage.verdict, status="completed")
    assert "no visible impact (0 retries, 0 failed runs); next success after 18m sim" in story
    assert "throughput" not in story  # a drop under 10% is not an impact
    assert "recovered in" not in story
    # A try that failed in the window is an impact, even when nothing was retried.
    failing = replace(
        calm, faults=tuple(replace(f, retries=0, failed_runs=()) for f in overall.faults)
    )
    story = run_story(replace(measures, recovery=(failing,)), outage.verdict, status="completed")
    assert "0 runs retried (failed tries: transform 1), recovered in 18m sim" in story
    assert "recovered in 18m sim" in outage.story  # with a retry it is a recovery


def test_a_fault_that_slowed_the_scheduler_is_an_impact_even_when_every_run_succeeded(
    outage: Result,
) -> None:
    # Issue 14: 90 → 12 finished tries per minute under a metadata-DB latency fault,
    # no retry and no failed run — the story said "no visible impact".
    measures = outage.measures
    overall = measures.recovery_for(None)
    slowed = replace(
        overall,
        retries=0,
        runs_retried=0,
        failed_runs=0,
        faults=tuple(
            replace(
                f,
                retries=0,
                failed_runs=(),
                stages=(),
                throughput_baseline_per_min=90.0,
                worst_minute_finished=12,
                throughput_drop=1 - 12 / 90,
                throughput_recovered=True,
                throughput_recovery_wall_s=70.0,
            )
            for f in overall.faults
        ),
    )
    story = run_story(replace(measures, recovery=(slowed,)), outage.verdict, status="completed")
    assert "no visible impact" not in story
    assert (
        "0 retries, 0 failed runs, throughput −86.7% at worst, back to ≥90% 1m10s wall after"
        " the revert, next success after 18m sim"
    ) in story
    never = replace(
        slowed,
        faults=tuple(replace(f, throughput_recovered=False) for f in slowed.faults),
    )
    story = run_story(replace(measures, recovery=(never,)), outage.verdict, status="completed")
    assert "throughput −86.7% at worst, never back to ≥90%" in story
    # With retries too, the drop follows the recovery.
    assert "recovered in 18m sim" in outage.story
    retried = replace(
        overall,
        faults=tuple(
            replace(f, throughput_drop=0.5, throughput_recovered=False) for f in overall.faults
        ),
    )
    story = run_story(replace(measures, recovery=(retried,)), outage.verdict, status="completed")
    assert "recovered in 18m sim, throughput −50.0% at worst, never back to ≥90%" in story


def test_numbers_never_print_in_exponent_form(smoke: Path) -> None:
    assert plain_number(5e-05) == "0.00005"
    assert plain_number(46729.6) == "46,730"
    assert scale_text(5e-05) == "1:20,000 (0.005%)"
    assert scale_text(1 / 2000) == "1:2,000 (0.05%)"
    text = _text(render_report(smoke, analyze(smoke)))
    assert "1:20,000 (0.005%)" in text
    assert not re.search(r"\d[eE][-+]\d", text)


def test_generated_load_is_not_called_capacity_and_counts_say_what_they_count(
    smoke: Path,
) -> None:
    text = _text(render_report(smoke, analyze(smoke)))
    assert "This is the load dagstorm generated, not the pipeline's capacity" in text
    assert "generated load at full scale (extrapolated)" in text
    assert "generated (valid + late events)" in text
    assert "records written" in text
    # Each table says what it counts and why its total differs from the other's.
    assert "bad lines and duplicates included" in text and "so the two totals differ" in text
    assert "the generated-load table, which counts every line written, differs" in text


def test_the_score_says_what_it_is(smoke: Path) -> None:
    result = analyze(smoke)
    assert "the weighted share of SLOs passed" in _text(render_report(smoke, result))
    assert "(weighted share of SLOs passed)" in outcome_line(result.verdict, "completed")
