"""wait_for_runs: polls on the run clock until nothing is left, the timeout, or the stop."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from dagstorm.engine import drain
from dagstorm.engine.output.asset_runs import AssetStorm
from dagstorm.run.clock import FakeClock
from dagstorm.run.events import DagTriggered, KafkaSignal, Log, WorkloadStats
from dagstorm.run.journal import RunJournal

STACK: Any = object()  # never reached: the queries are replaced


def _trigger(run_id: str, *, ok: bool = True) -> DagTriggered:
    return DagTriggered(dag_id="d", run_id=run_id, ok=ok, status=200 if ok else 409)


def _asset_event(event_id: int, wall_latency_ms: float = 20.0) -> DagTriggered:
    return DagTriggered(
        dag_id="producer",
        run_id=None,
        ok=True,
        status=200,
        latency_ms=wall_latency_ms,
        workload="storm",
        asset="orders",
        asset_event_id=event_id,
    )


def _signal(signal_id: str, *, ok: bool = True) -> KafkaSignal:
    return KafkaSignal(
        workload="burst",
        signal_id=signal_id,
        topic="t",
        control_topic="c",
        ranges={"0": [0, 10]},
        records=10,
        reason="end",
        ok=ok,
    )


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    """A run's journal: three runs triggered (and one refused) among other events."""
    path = tmp_path / "journal.jsonl"
    with RunJournal(path, FakeClock()) as run:
        for i, event in enumerate([_trigger("r1"), _trigger("r2"), _trigger("x", ok=False)]):
            run.emit(event)
            run.emit(Log(level="info", message=f'"kind":"dag_triggered" said line {i}'))
        run.emit(_trigger("r3"))
    return path


@pytest.fixture
def left(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Runs still unfinished at each poll (popped in order; the last one stays)."""
    remaining = [3, 2, 0]

    def unfinished(stack: Any, runs: set[str]) -> drain.InFlight:
        assert runs == {"r1", "r2", "r3"}  # the journal's, the refused one left out
        count = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        return drain.InFlight(count, paged=False)

    monkeypatch.setattr(drain, "served_by", lambda stack, signals: {})
    monkeypatch.setattr(drain, "asset_pending", lambda stack, storms: 0)
    monkeypatch.setattr(drain, "unfinished", unfinished)
    return remaining


def test_polls_until_nothing_is_left(left: list[int], journal: Path) -> None:
    clock = FakeClock()
    polls: list[float] = []

    def between() -> None:
        polls.append(clock.elapsed())

    done = drain.wait_for_runs(STACK, journal, clock, 600, threading.Event(), between=between)
    assert done == 0
    assert polls == [0.0, drain.POLL_SECONDS, 2 * drain.POLL_SECONDS]


def test_the_timeout_returns_what_is_left(left: list[int], journal: Path) -> None:
    left[:] = [2]
    clock = FakeClock()
    assert drain.wait_for_runs(STACK, journal, clock, 10, threading.Event()) == 2
    assert clock.elapsed() == 10


def test_the_stop_returns_what_is_left_at_once(left: list[int], journal: Path) -> None:
    stop = threading.Event()
    stop.set()
    clock = FakeClock()
    assert drain.wait_for_runs(STACK, journal, clock, 600, stop) == 3
    assert clock.elapsed() == 0


def test_an_unreachable_api_ends_the_wait(
    monkeypatch: pytest.MonkeyPatch, left: list[int], journal: Path
) -> None:
    def broken(stack: Any, runs: set[str]) -> int:
        raise ConnectionError("refused")

    monkeypatch.setattr(drain, "unfinished", broken)
    assert drain.wait_for_runs(STACK, journal, FakeClock(), 600, threading.Event()) == -1


class FakeRuns:
    """``DagRunApi.get_dag_runs`` over queued/running runs, paged by offset."""

    def __init__(self, run_ids: list[str], cap: int = 100) -> None:
        self.run_ids, self.cap = run_ids, cap
        self.calls: list[tuple[int, int]] = []

    def get_dag_runs(self, **kwargs: Any) -> Any:
        limit, offset = kwargs["limit"], kwargs["offset"]
        self.calls.append((offset, limit))
        chunk = self.run_ids[offset : offset + min(limit, self.cap)]  # the server's cap
        runs = [type("R", (), {"dag_run_id": r}) for r in chunk]
        return type("Page", (), {"dag_runs": runs, "total_entries": len(self.run_ids)})


def _fake_api(monkeypatch: pytest.MonkeyPatch, runs: FakeRuns) -> None:
    from contextlib import nullcontext

    monkeypatch.setattr(drain, "api_client", lambda stack: nullcontext(None))
    monkeypatch.setattr(drain, "DagRunApi", lambda client: runs)


def test_every_page_of_in_flight_runs_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # 250 other runs are queued before ours: the first page alone would miss both.
    others = [f"storm_{i}" for i in range(250)]
    runs = FakeRuns([*others, "ours_1", "ours_2"])
    _fake_api(monkeypatch, runs)
    found = drain.unfinished(STACK, {"ours_1", "ours_2", "ours_done"})
    assert found == drain.InFlight(2, paged=True)
    assert runs.calls == [(0, 100), (100, 100), (200, 100)]


def test_a_server_page_shorter_than_asked_is_followed_by_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A server capping pages at 30: its total, not the page's length, says when to stop.
    runs = FakeRuns([*[f"other_{i}" for i in range(70)], "ours"], cap=30)
    _fake_api(monkeypatch, runs)
    assert drain.unfinished(STACK, {"ours"}) == drain.InFlight(1, paged=True)
    assert [offset for offset, _ in runs.calls] == [0, 30, 60]


def test_one_page_is_not_paged(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = FakeRuns(["a", "ours"])
    _fake_api(monkeypatch, runs)
    assert drain.unfinished(STACK, {"ours"}) == drain.InFlight(1, paged=False)


def test_a_zero_read_over_pages_is_read_again_before_the_drain_ends(
    monkeypatch: pytest.MonkeyPatch, journal: Path
) -> None:
    reads = [drain.InFlight(0, paged=True), drain.InFlight(1, paged=True)]
    reads += [drain.InFlight(0, paged=True), drain.InFlight(0, paged=True)]
    monkeypatch.setattr(drain, "served_by", lambda stack, signals: {})
    monkeypatch.setattr(drain, "asset_pending", lambda stack, storms: 0)
    monkeypatch.setattr(drain, "unfinished", lambda stack, runs: reads.pop(0))
    clock = FakeClock()
    assert drain.wait_for_runs(STACK, journal, clock, 600, threading.Event()) == 0
    assert reads == [] and clock.elapsed() == 3 * drain.POLL_SECONDS


def test_runs_the_asset_events_started_or_are_about_to_start_are_waited_for(
    left: list[int], monkeypatch: pytest.MonkeyPatch, journal: Path
) -> None:
    with RunJournal(journal, FakeClock()) as run:
        run.emit(_asset_event(7))
        run.emit(_asset_event(8))
    left[:] = [0]  # every triggered run is done at once...
    pending = [2, 1, 0]  # ...but asset-triggered runs (or queued DAGs) are not
    seen: list[list[AssetStorm]] = []

    def asset_pending(stack: Any, storms: list[AssetStorm]) -> int:
        seen.append(storms)
        return pending.pop(0)

    monkeypatch.setattr(drain, "asset_pending", asset_pending)
    clock = FakeClock()
    assert drain.wait_for_runs(STACK, journal, clock, 600, threading.Event()) == 0
    assert pending == [] and clock.elapsed() == 2 * drain.POLL_SECONDS
    assert [[(s.asset, sorted(s.event_ids)) for s in poll] for poll in seen] == [
        [("orders", [7, 8])]
    ] * 3


def test_the_watch_reads_only_what_was_written_since_its_last_read(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    watch = drain.DrainWatch(path)
    watch.update()  # no journal yet: nothing
    assert watch.run_ids == set() and watch.signal_ids == set() and watch.storms() == []
    run = RunJournal(path, FakeClock())
    run.emit(_trigger("r1"))
    run.emit(_signal("s1"))
    run.emit(_signal("s-refused", ok=False))
    watch.update()
    read_to = watch._follower.offset
    assert watch.run_ids == {"r1"} and watch.signal_ids == {"s1"}
    # Rewritten in place (same length): a watch reading from the start again would see it.
    path.write_bytes(path.read_bytes().replace(b'"run_id":"r1"', b'"run_id":"q1"'))
    for i in range(2000):  # probes keep writing during the drain
        run.emit(WorkloadStats(workload="w", workload_kind="ad_logs", records=i))
    run.emit(_trigger("r2"))
    run.emit(_asset_event(5))
    run.close()
    watch.update()
    assert watch._follower.offset > read_to  # on from where it was, not from the start
    assert watch.run_ids == {"r1", "r2"} and watch.signal_ids == {"s1"}
    assert [(s.asset, sorted(s.event_ids)) for s in watch.storms()] == [("orders", [5])]


def test_the_watch_reads_a_journal_larger_than_one_chunk_to_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagstorm.run import follow

    monkeypatch.setattr(follow, "CHUNK_BYTES", 4096)  # many chunks, lines cut across them
    path = tmp_path / "journal.jsonl"
    with RunJournal(path, FakeClock()) as run:
        for i in range(300):
            run.emit(_trigger(f"r{i}"))
            run.emit(Log(level="info", message="x" * 50))
            if i == 150:  # whole chunks with none of the kinds the watch reads
                for _ in range(200):
                    run.emit(Log(level="info", message="y" * 100))
    assert path.stat().st_size > 20 * 4096
    watch = drain.DrainWatch(path)
    watch.update()
    assert watch.run_ids == {f"r{i}" for i in range(300)}
