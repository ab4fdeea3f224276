from __future__ import annotations

from pathlib import Path

from dagstorm.tui.follow import JournalFollower
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
