from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil

from dagstorm.core.boot_clock import same_start, started_since_boot, wall_time_of


def test_the_start_since_boot_agrees_with_psutil() -> None:
    started = started_since_boot(os.getpid())
    assert started is not None
    wall = psutil.Process().create_time()
    assert abs(wall_time_of(started) - wall) < 1.0
    assert same_start(os.getpid(), started)
    assert not same_start(os.getpid(), started + 1.0)


def test_a_command_name_with_spaces_and_parentheses_is_read_past() -> None:
    # The command name (field 2) may hold ") (" — the start is read after the last ")".
    code = "open('/proc/self/comm', 'w').write('a) b (c'); print(flush=True); input()"
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        child.stdout.readline()  # renamed
        with open(f"/proc/{child.pid}/stat") as stat:
            assert stat.read().startswith(f"{child.pid} (a) b (c) ")
        started = started_since_boot(child.pid)
        assert started is not None
        since_boot = psutil.Process(child.pid).create_time() - psutil.boot_time()
        assert abs(started - since_boot) < 0.02
    finally:
        child.kill()
        child.wait()


def test_a_process_that_is_gone_has_no_start() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    deadline = time.monotonic() + 5
    while psutil.pid_exists(child.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started_since_boot(child.pid) is None
    assert not same_start(child.pid, 0.0)
