from __future__ import annotations

import shutil
from pathlib import Path

import orjson

from dagstorm.run.follow import JournalFollower
from dagstorm.tui.live_verdict import live_verdict
from dagstorm.tui.state import RunState


def test_finished_run_uses_result_json(smoke_run: Path) -> None:
    state = RunState()
    state.feed_all(JournalFollower(smoke_run / "journal.jsonl").read())
    verdict = live_verdict(state.verdict_events(), run_dir=smoke_run)
    assert verdict.final and verdict.score == 16.7
    assert [s.light for s in verdict.slos] == ["red", "red", "red", "green"]


def test_under_way_unmeasured_is_amber(smoke_run: Path, tmp_path: Path) -> None:
    events = JournalFollower(smoke_run / "journal.jsonl").read()
    state = RunState()
    state.feed_all(e for e in events if e["t"] < 60)
    verdict = live_verdict(state.verdict_events(), run_dir=tmp_path)
    assert not verdict.final
    lights = {s.name: s.light for s in verdict.slos}
    assert lights["lost_events"] == "amber" and lights["duplicate_events"] == "amber"
    assert all(light != "red" for light in lights.values())


def test_nothing_to_judge() -> None:
    assert live_verdict([], run_dir=Path(".")).slos == ()


INTERRUPTED = Path(__file__).parents[1] / "fixtures" / "journals" / "interrupted_fault"


def test_an_ended_run_shows_the_verdict_result_json_has(tmp_path: Path) -> None:
    from dagstorm.analysis import analyze, write_result

    run_dir = tmp_path / "run"
    shutil.copytree(INTERRUPTED, run_dir)
    state = RunState()
    state.feed_all(JournalFollower(run_dir / "journal.jsonl").read())
    # Not analysed yet: the findings are judged from the events; they can only fail it.
    before = live_verdict(state.verdict_events(), run_dir=run_dir)
    result = analyze(run_dir)
    assert before.final and before.passed is False
    assert before.exit_code == int(result.verdict.exit_code) == 130
    assert before.findings == tuple(f.text for f in result.verdict.findings)
    write_result(run_dir, result)
    after = live_verdict(state.verdict_events(), run_dir=run_dir)
    assert (after.passed, after.exit_code, after.findings) == (
        before.passed,
        before.exit_code,
        before.findings,
    )


def test_no_pass_before_the_analysis(tmp_path: Path) -> None:
    lines = (INTERRUPTED / "journal.jsonl").read_bytes().splitlines()
    events = [orjson.loads(line) for line in lines]
    kept = [e for e in events if not e["kind"].startswith("fault_") and e["kind"] != "run_end"]
    clean_end = {**events[-1], "status": "completed", "reason": ""}
    state = RunState()
    state.feed_all([*kept, clean_end])
    verdict = live_verdict(state.verdict_events(), run_dir=tmp_path)  # no result.json
    # No finding, but no PASS either: that needs the analysis (ledger, serving data).
    assert verdict.final and verdict.passed is None and verdict.exit_code is None


def test_while_every_slo_is_pending_there_is_no_score(smoke_run: Path, tmp_path: Path) -> None:
    # Early in the run nothing is decided: a score of 0.0 would say everything failed.
    events = JournalFollower(smoke_run / "journal.jsonl").read()
    state = RunState()
    state.feed_all(e for e in events if e["t"] < 20)
    verdict = live_verdict(state.verdict_events(), run_dir=tmp_path)
    assert not verdict.final and {s.light for s in verdict.slos} == {"amber"}
    assert verdict.score is None


def test_a_fault_not_recovered_yet_is_not_never_during_the_run(
    smoke_run: Path, tmp_path: Path
) -> None:
    events = JournalFollower(smoke_run / "journal.jsonl").read()
    state = RunState()
    state.feed_all(e for e in events if e["t"] < 70)  # inside the fault window
    verdict = live_verdict(state.verdict_events(), run_dir=tmp_path)
    recovery = next(s for s in verdict.slos if s.name.startswith("recovery_time"))
    assert recovery.light == "amber" and recovery.value_text == "fault still applied"
    state.feed_all(e for e in events if 70 <= e["t"] < 110)  # reverted at 100 s
    verdict = live_verdict(state.verdict_events(), run_dir=tmp_path)
    recovery = next(s for s in verdict.slos if s.name.startswith("recovery_time"))
    assert recovery.light == "amber" and recovery.value_text == "not recovered yet"


def test_the_header_says_pending_then_judging_never_a_stale_score() -> None:
    from dagstorm.tui.live_verdict import LiveVerdict, SloLight
    from dagstorm.tui.widgets.run_header import score_text

    amber = (SloLight("lost_events", "amber", "pending", "<= 0"),)
    green = (SloLight("lost_events", "green", "0 lost events", "<= 0"),)
    # Every SLO pending: no number (0.0 would read as "everything failed").
    assert score_text(LiveVerdict(amber, None, final=False), ended=False) == "pending"
    assert score_text(LiveVerdict(green, 100.0, final=False), ended=False) == "100.0"
    # The run ended, its final verdict not computed yet: not the last live score.
    assert score_text(LiveVerdict(green, 66.7, final=False), ended=True) == "judging…"
    assert score_text(LiveVerdict(green, 100.0, final=True), ended=True) == "100.0"
    assert score_text(LiveVerdict((), None, final=True), ended=True) == "-"  # no SLO
