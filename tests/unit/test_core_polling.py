"""poll_until: the first answer, or None at the deadline; on a fake clock, so nothing sleeps."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from dagstorm.core.polling import poll_until


class Ticks:
    """A fake monotonic clock and a ``wait`` that advances it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def answers(*values: object) -> Callable[[], object]:
    it = iter(values)
    return lambda: next(it)


def test_the_first_answer_that_is_not_none_wins_even_a_falsy_one() -> None:
    ticks = Ticks()
    for falsy in (0, False, ""):
        check = answers(None, None, falsy, "later")
        assert (
            poll_until(check, timeout=10, interval=1, clock=ticks.clock, wait=ticks.wait) == falsy
        )


def test_an_answer_at_once_waits_not_at_all() -> None:
    ticks = Ticks()
    assert poll_until(lambda: "ok", timeout=0, interval=1, clock=ticks.clock, wait=ticks.wait)
    assert ticks.waits == []


def test_no_answer_gives_none_after_checking_at_the_deadline() -> None:
    ticks = Ticks()
    calls: list[float] = []

    def check() -> None:
        calls.append(ticks.now)

    result = poll_until(check, timeout=2.5, interval=1, clock=ticks.clock, wait=ticks.wait)
    assert result is None
    assert calls == [0.0, 1.0, 2.0, 2.5]  # the last wait is cut to the deadline
    assert ticks.waits == [1, 1, 0.5]


def test_a_wait_that_returns_true_ends_the_polling() -> None:
    stop = threading.Event()
    calls = 0

    def check() -> None:
        nonlocal calls
        calls += 1
        stop.set()

    assert poll_until(check, timeout=60, interval=30, wait=stop.wait) is None
    assert calls == 1


def test_a_check_gives_up_by_raising() -> None:
    def check() -> None:
        raise LookupError("the process died")

    with pytest.raises(LookupError, match="died"):
        poll_until(check, timeout=60, interval=1)
