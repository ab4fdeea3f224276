from __future__ import annotations

from pathlib import Path

import pytest

from dagstorm.run.follow import (
    JournalFollower,
    events_of_kinds,
    last_event,
    parse_lines,
    tail_events,
)


def test_reads_only_new_complete_lines(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    follower = JournalFollower(path)
    assert follower.read() == []  # no file yet
    path.write_bytes(b'{"seq":1,"t":0.1,"kind":"a"}\n{"seq":2,"t":0.2,')
    assert [e["seq"] for e in follower.read()] == [1]
    with path.open("ab") as handle:
        handle.write(b'"kind":"b"}\n{"seq":3,"t":0.3,"kind":"c"}\n')
    assert [e["seq"] for e in follower.read()] == [2, 3]
    assert follower.read() == []


def test_torn_or_bad_lines_are_skipped() -> None:
    assert parse_lines(b'{"a":1}\nnot json\n[1,2]\n\n{"b":2}\n') == [{"a": 1}, {"b": 2}]


def test_only_the_lines_of_the_kinds_asked_for_are_returned() -> None:
    data = (
        b'{"seq":1,"kind":"dag_triggered","run_id":"r1"}\n'
        b'{"seq":2,"kind":"log","message":"\\"kind\\":\\"dag_triggered\\""}\n'
        b'{"seq":3,"kind":"kafka_signal"}\n'
        b'{"seq":4,"kind":"dag_triggered_later"}\n'
    )
    assert [e["seq"] for e in parse_lines(data, ("dag_triggered",))] == [1]
    assert [e["seq"] for e in parse_lines(data, ("dag_triggered", "kafka_signal"))] == [1, 3]
    assert len(parse_lines(data)) == 4


def test_events_of_kinds_reads_the_whole_journal_chunk_by_chunk(
    tmp_path: Path, smoke_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import orjson

    from dagstorm.run import follow

    journal = smoke_run / "journal.jsonl"
    lines = [orjson.loads(line) for line in journal.read_bytes().splitlines()]
    kinds = ("dag_run", "alert", "fault_applied")
    expected = [e for e in lines if e["kind"] in kinds]
    assert {e["kind"] for e in expected} == set(kinds)  # the recorded smoke run has each
    monkeypatch.setattr(follow, "CHUNK_BYTES", 8192)  # lines cut across many chunks
    assert events_of_kinds(journal, kinds) == expected
    assert events_of_kinds(tmp_path / "absent.jsonl", ("dag_run",)) == []


def test_rewind_reads_again(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b'{"seq":1}\n{"seq":2}\n')
    follower = JournalFollower(path)
    assert len(follower.read(max_bytes=12)) == 1
    assert len(follower.read()) == 1
    follower.rewind()
    assert len(follower.read()) == 2


def test_last_event(tmp_path: Path, smoke_run: Path) -> None:
    last = last_event(smoke_run / "journal.jsonl")
    assert last is not None and last["kind"] == "run_end"
    assert last_event(tmp_path / "absent.jsonl") is None


def test_tail_events_reads_whole_lines_of_the_end_only(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    assert tail_events(path) == []
    path.write_bytes(b'{"seq":1,"pad":"' + b"x" * 100 + b'"}\n{"seq":2}\n{"seq":3}\n{"seq":4,')
    assert [e["seq"] for e in tail_events(path)] == [1, 2, 3]
    # A window that cuts line 1 skips it; the torn line 4 is never an event.
    assert [e["seq"] for e in tail_events(path, tail_bytes=40)] == [2, 3]
