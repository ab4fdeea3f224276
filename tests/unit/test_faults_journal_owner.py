from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from dagstorm.faults.journal import FaultJournal, owner_alive


def test_the_owner_is_known_by_its_start_since_boot(tmp_path: Path) -> None:
    journal = FaultJournal(tmp_path / "journal.jsonl")
    journal.record("f1", "intent", spec={"kind": "network"})
    [fault] = journal.open_faults()
    assert fault.owner_pid == os.getpid() and fault.owner_started is not None
    assert owner_alive(fault)
    # The wall clock set an hour back after the intent: the owner is still this process.
    assert owner_alive(dataclasses.replace(fault, injected_at=fault.injected_at - 3600))
    # Another start on the same pid: another process, the fault is orphaned.
    assert not owner_alive(dataclasses.replace(fault, owner_started=fault.owner_started - 1))


def test_a_journal_written_before_the_start_was_kept_is_read_as_before(tmp_path: Path) -> None:
    journal = FaultJournal(tmp_path / "journal.jsonl")
    journal.record("f1", "intent", spec={"kind": "network"})
    [fault] = journal.open_faults()
    legacy = dataclasses.replace(fault, owner_started=None)
    assert owner_alive(legacy)
    assert not owner_alive(dataclasses.replace(legacy, injected_at=legacy.injected_at - 3600))
