"""The Airflow runs probe against a fake REST API whose rows move while it pages."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from dagstorm.probes import airflow_runs
from dagstorm.probes.airflow_runs import AirflowRunsProbe
from dagstorm.run.clock import FakeClock
from dagstorm.run.journal import RunJournal


@dataclass
class FakeAirflow:
    """Task instances by id; ``updated`` is a wall time; pages by offset, ordered by id."""

    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    history: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    #: Called after the first page of a task-instance poll (to move rows mid-poll).
    mid_poll: Any = None
    since_asked: list[datetime] = field(default_factory=list)
    tries_asked: int = 0

    def page(self, since: datetime, offset: int, limit: int) -> list[SimpleNamespace]:
        if offset == 0:
            self.since_asked.append(since)
        chosen = [r for _, r in sorted(self.rows.items()) if r["updated"] >= since.timestamp()]
        page = chosen[offset : offset + limit]
        if offset == 0 and self.mid_poll is not None:
            hook, self.mid_poll = self.mid_poll, None
            hook(self)
        return [SimpleNamespace(**{k: v for k, v in r.items() if k != "updated"}) for r in page]


def _ti(task: str, try_number: int, state: str, updated: float) -> dict[str, Any]:
    return {
        "dag_id": "d",
        "dag_run_id": "r",
        "task_id": task,
        "map_index": -1,
        "try_number": try_number,
        "state": state,
        "queued_when": None,
        "start_date": datetime.fromtimestamp(updated - 1, UTC),
        "end_date": None,
        "duration": None,
        "pool": "default_pool",
        "hostname": "h",
        "updated": updated,
    }


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeAirflow:
    airflow = FakeAirflow()

    class TaskInstanceApi:
        def __init__(self, client: object) -> None:
            pass

        def get_task_instances(self, **kw: Any) -> SimpleNamespace:
            return SimpleNamespace(
                task_instances=airflow.page(kw["updated_at_gte"], kw["offset"], kw["limit"])
            )

        def get_task_instance_tries(self, **kw: Any) -> SimpleNamespace:
            airflow.tries_asked += 1
            past = airflow.history.get((kw["dag_run_id"], kw["task_id"]), [])
            return SimpleNamespace(task_instances=[SimpleNamespace(**p) for p in past])

    class DagRunApi:
        def __init__(self, client: object) -> None:
            pass

        def get_dag_runs(self, **kw: Any) -> SimpleNamespace:
            assert kw["order_by"] == ["id"]
            return SimpleNamespace(dag_runs=[])

    monkeypatch.setattr(airflow_runs, "TaskInstanceApi", TaskInstanceApi)
    monkeypatch.setattr(airflow_runs, "DagRunApi", DagRunApi)
    monkeypatch.setattr(airflow_runs, "PAGE", 2)
    return airflow


def _probe(tmp_path: Path, clock: FakeClock) -> AirflowRunsProbe:
    journal = RunJournal(tmp_path / "journal.jsonl", clock)
    probe = AirflowRunsProbe(journal, clock, stack=SimpleNamespace(), dag_ids=["d"])  # type: ignore[arg-type]
    probe._client = SimpleNamespace()  # type: ignore[assignment]
    probe.setup()
    return probe


def _tries(tmp_path: Path) -> list[tuple[str, int, str]]:
    lines = (tmp_path / "journal.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    return [(e["task_id"], e["try_number"], e["state"]) for e in events if e["kind"] == "task_try"]


def test_a_row_skipped_by_a_moving_page_is_read_by_the_next_poll(
    tmp_path: Path, fake: FakeAirflow
) -> None:
    clock = FakeClock()
    t0 = clock.wall()
    probe = _probe(tmp_path, clock)
    clock.advance(1)
    probe.sample()  # poll 1 at t0+1: nothing yet
    fake.rows = {n: _ti(task, 1, "success", t0 + 1.5) for n, task in ((2, "b"), (3, "c"), (4, "d"))}

    def retried(f: FakeAirflow) -> None:  # b is retried: a new try gets a new, higher id
        del f.rows[2]
        f.rows[9] = _ti("b", 2, "queued", t0 + 5.9)

    fake.mid_poll = retried
    clock.advance(5)
    probe.sample()  # poll 2 at t0+6: page 1 is [b, c]; then d moves onto page 1, unread
    assert ("d", 1, "success") not in _tries(tmp_path)
    clock.advance(5)
    probe.sample()  # poll 3 at t0+11 reaches back to poll 2's window (t0-2), not t0+3
    assert ("d", 1, "success") in _tries(tmp_path)
    assert fake.since_asked[2] == datetime.fromtimestamp(t0 + 1 - 3, UTC)


def test_a_try_replaced_between_polls_is_fetched_when_the_next_is_first_seen(
    tmp_path: Path, fake: FakeAirflow
) -> None:
    clock = FakeClock()
    t0 = clock.wall()
    probe = _probe(tmp_path, clock)
    # Try 1 failed and try 2 was queued between two polls: the row shows only try 2.
    fake.rows = {1: _ti("a", 2, "queued", t0 + 1)}
    fake.history[("r", "a")] = [
        {**_ti("a", 1, "up_for_retry", t0 + 0.5), "dag_id": "d", "dag_run_id": "r"}
    ]
    clock.advance(2)
    probe.sample()
    assert _tries(tmp_path) == [("a", 1, "up_for_retry"), ("a", 2, "queued")]
    fake.rows[1] = _ti("a", 2, "running", t0 + 3)
    clock.advance(2)
    probe.sample()
    assert fake.tries_asked == 1  # not again for a state that is not final
    fake.rows[1] = _ti("a", 2, "success", t0 + 5)
    clock.advance(2)
    probe.sample()
    assert fake.tries_asked == 2 and _tries(tmp_path)[-1] == ("a", 2, "success")


def test_the_first_window_starts_with_the_run_not_with_the_probe(
    tmp_path: Path, fake: FakeAirflow
) -> None:
    clock = FakeClock()
    t0 = clock.wall()
    clock.advance(7)  # the other probes were built first
    fake.rows = {1: _ti("early", 1, "success", t0 + 2)}  # ran and ended meanwhile
    probe = _probe(tmp_path, clock)
    probe.sample()
    assert fake.since_asked[0] == datetime.fromtimestamp(t0 - 3, UTC)
    assert _tries(tmp_path) == [("early", 1, "success")]
