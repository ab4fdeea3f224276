from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
from pathlib import Path

import psutil
import pytest

from dagstorm.stack.embedded.processes import PidRecord, process_of, spawn, stop, sweep, tail


def _spawn(tmp_path: Path, code: str, name: str = "sleeper") -> PidRecord:
    return spawn(
        name,
        [sys.executable, "-c", code],
        env={"PATH": os.environ["PATH"]},
        log_path=tmp_path / "logs" / f"{name}.log",
        pid_path=tmp_path / f"{name}.pid",
        marker=str(tmp_path),
    )


def test_spawn_records_pid_and_process_is_ours(tmp_path: Path) -> None:
    record = _spawn(tmp_path, "import time; time.sleep(60)")
    try:
        assert PidRecord.read(tmp_path / "sleeper.pid") == record
        proc = process_of(record)
        assert proc is not None and proc.pid == record.pid
    finally:
        assert stop(record, timeout=5) == "stopped"
    assert process_of(record) is None


def test_a_record_whose_create_time_differs_is_not_ours(tmp_path: Path) -> None:
    record = _spawn(tmp_path, "import time; time.sleep(60)")
    try:
        forged = PidRecord(
            record.component, record.pid, record.create_time - 100, record.marker, record.argv
        )
        assert process_of(forged) is None  # a reused pid is not taken for ours
    finally:
        stop(record, timeout=5)


def test_a_record_whose_start_since_boot_differs_is_not_ours(tmp_path: Path) -> None:
    record = _spawn(tmp_path, "import time; time.sleep(60)")
    try:
        assert record.started is not None
        forged = dataclasses.replace(record, started=record.started - 0.05)
        assert process_of(forged) is None  # one tick earlier: another process on that pid
    finally:
        stop(record, timeout=5)


def test_a_step_of_the_wall_clock_leaves_the_process_ours(tmp_path: Path) -> None:
    # After the wall clock is set an hour ahead (NTP, a VM resumed after a pause),
    # psutil's creation time of every process moves by that hour; the start counted
    # from boot does not, and the stack must still know its own processes.
    record = _spawn(tmp_path, "import time; time.sleep(60)")
    try:
        stepped = dataclasses.replace(record, create_time=record.create_time - 3600)
        proc = process_of(stepped)
        assert proc is not None and proc.pid == record.pid
    finally:
        assert stop(dataclasses.replace(record, create_time=0.0), timeout=5) == "stopped"


def test_a_pid_file_written_before_the_boot_clock_is_read_as_before(tmp_path: Path) -> None:
    record = _spawn(tmp_path, "import time; time.sleep(60)")
    try:
        legacy = json.loads(record.to_json())
        del legacy["started"]
        (tmp_path / "old.pid").write_text(json.dumps(legacy))
        old = PidRecord.read(tmp_path / "old.pid")
        assert old is not None and old.started is None
        assert process_of(old) is not None  # wall creation time compared, as it was
    finally:
        stop(record, timeout=5)


def test_stop_never_signals_a_process_without_our_marker(tmp_path: Path) -> None:
    stranger = psutil.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record = PidRecord("x", stranger.pid, stranger.create_time(), str(tmp_path / "m"), [])
        assert stop(record, timeout=1) == "not running"
        assert stranger.is_running() and stranger.status() != psutil.STATUS_ZOMBIE
    finally:
        stranger.kill()
        stranger.wait()


def test_a_process_ignoring_sigterm_is_killed(tmp_path: Path) -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    record = _spawn(tmp_path, code)
    proc = process_of(record)
    assert proc is not None
    # wait until the handler is installed, or SIGTERM may arrive first
    for _ in range(100):
        if "SigIgn" in Path(f"/proc/{record.pid}/status").read_text():
            ign = next(
                line
                for line in Path(f"/proc/{record.pid}/status").read_text().splitlines()
                if line.startswith("SigIgn")
            )
            if int(ign.split()[1], 16) & (1 << (signal.SIGTERM - 1)):
                break
        psutil.wait_procs([proc], timeout=0.05)
    assert stop(record, timeout=1) == "killed"
    assert process_of(record) is None


def test_a_paused_process_is_resumed_and_stopped(tmp_path: Path) -> None:
    record = _spawn(tmp_path, "import time; time.sleep(60)")
    os.kill(record.pid, signal.SIGSTOP)
    assert stop(record, timeout=5) == "stopped"


def test_children_in_the_group_are_stopped_with_the_leader(tmp_path: Path) -> None:
    code = (
        "import subprocess, sys, time; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "time.sleep(60)"
    )
    record = _spawn(tmp_path, code)
    leader = process_of(record)
    assert leader is not None
    children: list[psutil.Process] = []
    for _ in range(100):
        children = leader.children()
        if children:
            break
        psutil.wait_procs([leader], timeout=0.05)
    assert children
    stop(record, timeout=5)
    assert not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)


def test_sweep_stops_strays_that_carry_the_marker(tmp_path: Path) -> None:
    record = _spawn(tmp_path, "import time; time.sleep(60)", name="stray")
    (tmp_path / "stray.pid").unlink()  # the pid file is lost: only the marker is left
    assert sweep(str(tmp_path)) == 1
    assert process_of(record) is None


def test_exit_is_noticed_and_log_tail_is_kept(tmp_path: Path) -> None:
    record = _spawn(tmp_path, "print('boom', flush=True); raise SystemExit(7)", name="crasher")
    psutil.wait_procs([psutil.Process(record.pid)], timeout=10)
    assert process_of(record) is None
    assert "boom" in tail(tmp_path / "logs" / "crasher.log")


def test_pid_record_of_garbage_is_none(tmp_path: Path) -> None:
    path = tmp_path / "x.pid"
    path.write_text("not json")
    assert PidRecord.read(path) is None
    assert PidRecord.read(tmp_path / "missing.pid") is None


@pytest.mark.parametrize("lines", [1, 5])
def test_tail_returns_last_lines(tmp_path: Path, lines: int) -> None:
    path = tmp_path / "log"
    path.write_text("\n".join(str(i) for i in range(100)))
    assert tail(path, lines).splitlines() == [str(i) for i in range(100 - lines, 100)]
