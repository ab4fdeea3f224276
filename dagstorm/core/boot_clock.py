"""When a process started, on a clock that steps of the wall clock never move.

psutil's ``create_time()`` is the kernel's start tick of the process plus the boot
time in wall-clock seconds. When the wall clock is stepped (NTP, a virtual machine
resumed after a pause), the kernel's boot time moves with it, and every process
seems to have started at another moment: a check "same pid, same creation time"
then takes every process for a stranger. The start in seconds since boot is the
kernel's own tick count and never changes, so identity checks compare that.
"""

from __future__ import annotations

import os
import time

_TICKS_PER_SECOND = float(os.sysconf("SC_CLK_TCK"))

#: Two readings of one process's start differ by nothing; a different process on
#: the same pid started at another tick (1/100 s on Linux). Half a tick apart is
#: the same start.
SAME_START_S = 0.5 / _TICKS_PER_SECOND


def started_since_boot(pid: int) -> float | None:
    """Seconds from boot to the start of process ``pid``; ``None`` if it does not exist.

    Read from field 22 of ``/proc/PID/stat`` (the start tick), after the command name,
    which may itself hold spaces and parentheses.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    _, _, rest = raw.rpartition(b")")
    fields = rest.split()
    try:
        return int(fields[19]) / _TICKS_PER_SECOND  # field 22: 3 is the first after ")"
    except (IndexError, ValueError):
        return None


def same_start(pid: int, started: float) -> bool:
    """True if process ``pid`` is the one that started ``started`` seconds after boot."""
    now = started_since_boot(pid)
    return now is not None and abs(now - started) <= SAME_START_S


def wall_time_of(started: float) -> float:
    """The wall-clock moment, by today's clock, of ``started`` seconds after boot."""
    return time.time() - (time.clock_gettime(time.CLOCK_BOOTTIME) - started)
