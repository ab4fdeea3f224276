"""wait_for_ack: the command's acknowledgement, or None when the run ended or time is up."""

from __future__ import annotations

from pathlib import Path

import orjson

from dagstorm.control.ack import run_end_of, wait_for_ack


def _journal(run_dir: Path, *events: dict[str, object], torn: bytes = b"") -> None:
    lines = b"".join(orjson.dumps(e) + b"\n" for e in events)
    (run_dir / "journal.jsonl").write_bytes(lines + torn)


def test_the_ack_of_the_command_is_found_after_the_start(tmp_path: Path) -> None:
    before = {"kind": "control_ack", "command_id": "c1", "ok": False}
    _journal(tmp_path, before)
    start = (tmp_path / "journal.jsonl").stat().st_size
    ack = {"kind": "control_ack", "command_id": "c1", "ok": True}
    _journal(tmp_path, before, {"kind": "control_ack", "command_id": "c0"}, ack, torn=b'{"kin')
    assert wait_for_ack(tmp_path, "c1", start=start, timeout=0) == ack


def test_the_end_of_the_run_means_no_ack(tmp_path: Path) -> None:
    _journal(tmp_path, {"kind": "run_end"}, {"kind": "control_ack", "command_id": "c1"})
    assert wait_for_ack(tmp_path, "c1", start=0, timeout=60) is None


def test_no_ack_in_time_is_none(tmp_path: Path) -> None:
    assert wait_for_ack(tmp_path, "c1", start=0, timeout=0) is None
    _journal(tmp_path, {"kind": "phase_start"})
    assert wait_for_ack(tmp_path, "c1", start=0, timeout=0.05, poll=0.01) is None


def test_run_end_of_reads_the_last_run_end_and_skips_a_torn_line(tmp_path: Path) -> None:
    assert run_end_of(tmp_path) is None
    _journal(tmp_path, {"kind": "run_start"}, torn=b'{"kind": "run_end", "sta')
    assert run_end_of(tmp_path) is None
    end: dict[str, object] = {"kind": "run_end", "status": "aborted"}
    _journal(tmp_path, {"kind": "run_start"}, {"kind": "log", "message": "x" * 70_000}, end)
    assert run_end_of(tmp_path) == end
