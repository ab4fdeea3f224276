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


def _stat_after_name(pid: int) -> list[bytes] | None:
    """The fields of ``/proc/PID/stat`` after the command name (field 3 first).

    The command name (field 2) may itself hold spaces and parentheses: the fields
    start after its last ``)``. ``None`` if the process does not exist.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    return raw.rpartition(b")")[2].split()


def _start_of(fields: list[bytes]) -> float | None:
    try:
        return int(fields[19]) / _TICKS_PER_SECOND  # field 22, the start tick
    except (IndexError, ValueError):
        return None


def started_since_boot(pid: int) -> float | None:
    """Seconds from boot to the start of process ``pid``; ``None`` if it does not exist."""
    fields = _stat_after_name(pid)
    return None if fields is None else _start_of(fields)


def same_start(pid: int, started: float) -> bool:
    """True if process ``pid`` is the one that started ``started`` seconds after boot."""
    now = started_since_boot(pid)
    return now is not None and abs(now - started) <= SAME_START_S


def alive_since(pid: int, started: float) -> bool:
    """True if process ``pid`` is the one started ``started`` s after boot, and not a zombie."""
    fields = _stat_after_name(pid)
    if not fields or fields[0] == b"Z":  # field 3, the state
        return False
    now = _start_of(fields)
    return now is not None and abs(now - started) <= SAME_START_S


def wall_time_of(started: float) -> float:
    """The wall-clock moment, by today's clock, of ``started`` seconds after boot."""
    return time.time() - (time.clock_gettime(time.CLOCK_BOOTTIME) - started)
