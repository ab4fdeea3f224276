"""Work a run inherited: runs queued before it began that ran during it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dagstorm.analysis.measures.compute import compute_measures
from dagstorm.analysis.measures.scheduler.inherited import inherited_runs
from dagstorm.analysis.outputs.next_steps import INHERITED_SHARE
from dagstorm.analysis.outputs.result import result_document, result_of
from dagstorm.analysis.rundata.load import build_run_data
from dagstorm.analysis.rundata.model import RunData

ORIGIN = datetime(2026, 3, 1, 22, 0, tzinfo=UTC).timestamp()
END_T = 300.0


def _iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(ORIGIN + t, UTC).isoformat()


class _Journal:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = [
            {"seq": 1, "t": 0, "wall": ORIGIN, "kind": "run_start", "time_compression": 1}
        ]

    def add(self, kind: str, t: float = 1.0, **fields: Any) -> None:
        seq = len(self.events) + 1
        self.events.append({"seq": seq, "t": t, "wall": ORIGIN + t, "kind": kind, **fields})

    def run(self, dag: str, run_id: str, queued: float, *, triggered: bool = False) -> None:
        if triggered:
            self.add("dag_triggered", t=max(queued, 0.0), dag_id=dag, run_id=run_id, ok=True)
        self.add(
            "dag_run",
            dag_id=dag,
            run_id=run_id,
            state="success",
            queued_at=_iso(queued),
            start_date=_iso(queued + 1),
            end_date=_iso(queued + 30),
        )

    def tries(
        self, dag: str, run_id: str, starts: list[float], state: str = "success", task: str = "t"
    ) -> None:
        for i, start in enumerate(starts):
            self.add(
                "task_try",
                dag_id=dag,
                run_id=run_id,
                task_id=f"{task}{i}",
                map_index=-1,
                try_number=1,
                state=state,
                queued_when=_iso(start - 1),
                start_date=_iso(start),
                end_date=_iso(start + 5),
            )

    def data(self) -> RunData:
        end = {"seq": len(self.events) + 1, "t": END_T, "wall": ORIGIN + END_T, "kind": "run_end"}
        return build_run_data([*self.events, end], run_dir=Path("run"))


def _backlogged() -> RunData:
    journal = _Journal()
    # This run's own load: 2 triggered runs, 6 tries.
    journal.run("d", "mine-1", 5, triggered=True)
    journal.tries("d", "mine-1", [10, 20, 30])
    journal.run("d", "mine-2", 40, triggered=True)
    journal.tries("d", "mine-2", [50, 60, 70])
    # A backlog: 2 runs of d and 1 of e queued before the start, 4 tries during the run.
    journal.run("d", "old-1", -600)
    journal.tries("d", "old-1", [2, 3])
    journal.run("d", "old-2", -500)
    journal.tries("d", "old-2", [80])
    journal.run("e", "old-3", -400)
    journal.tries("e", "old-3", [90])
    # A run from before that finished before the start: nothing inherited from it.
    journal.run("e", "done", -900)
    journal.tries("e", "done", [-800, -700])
    # Skipped tries never ran: not counted on either side.
    journal.tries("d", "old-2", [100], state="skipped", task="skip")
    return journal.data()


def test_runs_queued_before_the_start_that_ran_during_it_are_counted() -> None:
    data = _backlogged()
    inherited = inherited_runs(data.dag_runs, data.task_tries, end_t=data.end_t)
    assert inherited.runs == 3
    assert inherited.tries == 4
    assert inherited.all_tries == 10
    assert inherited.share == 0.4
    assert inherited.by_dag == ({"dag_id": "d", "runs": 2}, {"dag_id": "e", "runs": 1})


def test_a_run_this_run_triggered_is_its_own_even_if_queued_before_the_origin() -> None:
    journal = _Journal()
    journal.run("d", "mine", -2, triggered=True)  # queued_at a clock tick before t=0
    journal.tries("d", "mine", [5, 6])
    data = journal.data()
    inherited = inherited_runs(data.dag_runs, data.task_tries, end_t=data.end_t)
    assert (inherited.runs, inherited.tries, inherited.all_tries) == (0, 0, 2)
    assert inherited.share == 0.0


def test_a_run_without_tries_inherits_nothing_and_has_no_share() -> None:
    data = _Journal().data()
    inherited = inherited_runs(data.dag_runs, data.task_tries, end_t=data.end_t)
    assert (inherited.runs, inherited.tries, inherited.all_tries) == (0, 0, 0)
    assert inherited.share is None
    assert inherited.by_dag == ()


def test_the_backlog_is_in_the_result_the_story_and_what_next() -> None:
    result = result_of(_backlogged())
    assert result.data is not None
    assert compute_measures(result.data).inherited.runs == 3
    document = result_document(result)
    assert document["measures"]["inherited"]["share"] == 0.4
    assert "40.0% of tries from 3 runs queued before the start" in result.story
    assert result.next_steps is not None
    [advice] = [a for a in result.next_steps.advice if a.topic == "inherited"]
    assert advice.finding == (
        "3 runs queued before this run began ran during it (d 2, e 1): 4 of 10 tries started, 40.0%"
    )
    assert "let the backlog drain" in advice.advice


def test_a_small_backlog_is_measured_but_not_advised_on() -> None:
    journal = _Journal()
    for i in range(30):
        journal.run("d", f"mine-{i}", 5 + i, triggered=True)
        journal.tries("d", f"mine-{i}", [10 + i])
    journal.run("d", "old", -60)
    journal.tries("d", "old", [3])  # 1 of 31 tries: 3.2%
    result = result_of(journal.data())
    assert result.data is not None
    inherited = compute_measures(result.data).inherited
    assert inherited.share is not None and inherited.share < INHERITED_SHARE
    assert inherited.runs == 1
    assert result.next_steps is not None
    assert not [a for a in result.next_steps.advice if a.topic == "inherited"]
    assert "queued before the start" not in result.story
