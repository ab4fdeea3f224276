"""wait_for_runs: polls on the run clock until nothing is left, the timeout, or the stop."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from dagstorm.engine import drain
from dagstorm.run.clock import FakeClock

STACK: Any = object()  # never reached: the queries are replaced


@pytest.fixture
def left(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Runs still unfinished at each poll (popped in order; the last one stays)."""
    remaining = [3, 2, 0]

    def unfinished(stack: Any, runs: set[str]) -> int:
        return remaining.pop(0) if len(remaining) > 1 else remaining[0]

    monkeypatch.setattr(drain, "sent_signal_ids", lambda path: [])
    monkeypatch.setattr(drain, "served_by", lambda stack, signals: {})
    monkeypatch.setattr(drain, "triggered_run_ids", lambda path: ["r1", "r2", "r3"])
    monkeypatch.setattr(drain, "unfinished", unfinished)
    return remaining


def test_polls_until_nothing_is_left(left: list[int]) -> None:
    clock = FakeClock()
    polls: list[float] = []

    def between() -> None:
        polls.append(clock.elapsed())

    done = drain.wait_for_runs(STACK, Path("j"), clock, 600, threading.Event(), between=between)
    assert done == 0
    assert polls == [0.0, drain.POLL_SECONDS, 2 * drain.POLL_SECONDS]


def test_the_timeout_returns_what_is_left(left: list[int]) -> None:
    left[:] = [2]
    clock = FakeClock()
    assert drain.wait_for_runs(STACK, Path("j"), clock, 10, threading.Event()) == 2
    assert clock.elapsed() == 10


def test_the_stop_returns_what_is_left_at_once(left: list[int]) -> None:
    stop = threading.Event()
    stop.set()
    clock = FakeClock()
    assert drain.wait_for_runs(STACK, Path("j"), clock, 600, stop) == 3
    assert clock.elapsed() == 0


def test_an_unreachable_api_ends_the_wait(monkeypatch: pytest.MonkeyPatch, left: list[int]) -> None:
    def broken(stack: Any, runs: set[str]) -> int:
        raise ConnectionError("refused")

    monkeypatch.setattr(drain, "unfinished", broken)
    assert drain.wait_for_runs(STACK, Path("j"), FakeClock(), 600, threading.Event()) == -1
