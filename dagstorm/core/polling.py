"""Polling: ask until there is an answer or the time is up.

One loop for every "until the deadline: try, sleep" in dagstorm (a component
becoming healthy, a fault taking effect, an acknowledgement in the journal, the
DAG runs draining). The clock and the wait are parameters, so the engine polls on
its run clock (a fake one in tests: nothing really sleeps) and a wait can be cut
short by an event.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll_until(
    check: Callable[[], T | None],
    *,
    timeout: float,
    interval: float,
    clock: Callable[[], float] = time.monotonic,
    wait: Callable[[float], object] = time.sleep,
) -> T | None:
    """The first answer of ``check`` that is not None; None once ``timeout`` seconds pass.

    ``check`` runs at once, then every ``interval`` seconds; the last wait is cut
    to the deadline, so the last check is made at the deadline. Its exceptions
    propagate: raising is how a check gives up early (the process it waits for
    died). ``clock`` gives seconds (monotonic); ``wait(seconds)`` waits, and
    returning True ends the polling with None — ``threading.Event.wait`` and the
    run clock's ``wait`` do, when their event is set.
    """
    deadline = clock() + timeout
    while True:
        answer = check()
        if answer is not None:
            return answer
        left = deadline - clock()
        if left <= 0 or wait(min(interval, left)) is True:
            return None
