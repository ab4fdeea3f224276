"""The probe contract: samples on its interval, never raises, samples once more at stop."""

from __future__ import annotations

import threading
from pathlib import Path

from dagstorm.probes.base import Probe
from dagstorm.run.clock import WallClock
from dagstorm.run.events import Log
from dagstorm.run.journal import RunJournal, read_journal


class Counting(Probe):
    name = "counting"

    def __init__(self, journal: RunJournal, *, fail_at: int | None = None) -> None:
        super().__init__(journal, WallClock(1.0), interval=3600.0)
        self.samples = 0
        self.fail_at = fail_at
        self.first = threading.Event()

    def sample(self) -> None:
        self.samples += 1
        self.first.set()
        if self.samples == self.fail_at:
            raise RuntimeError("boom")
        self.journal.emit(Log(level="info", message=f"sample {self.samples}"))


def test_stop_takes_one_last_sample_so_the_end_of_the_run_is_seen(tmp_path: Path) -> None:
    journal = RunJournal(tmp_path / "journal.jsonl", WallClock(1.0))
    probe = Counting(journal)
    probe.start()
    assert probe.first.wait(10)
    probe.stop()  # the interval is an hour: only the stop can cause the second sample
    assert probe.samples == 2
    journal.close()
    assert [e["message"] for e in read_journal(journal.path)] == ["sample 1", "sample 2"]


def test_a_failing_last_sample_is_journaled_not_raised(tmp_path: Path) -> None:
    journal = RunJournal(tmp_path / "journal.jsonl", WallClock(1.0))
    probe = Counting(journal, fail_at=2)
    probe.start()
    assert probe.first.wait(10)
    probe.stop()
    assert probe.errors == 1
    journal.close()
    errors = [e for e in read_journal(journal.path) if e["kind"] == "probe_error"]
    assert errors[0]["probe"] == "counting" and "boom" in errors[0]["error"]
