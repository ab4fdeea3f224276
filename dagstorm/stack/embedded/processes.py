"""Processes dagstorm starts: pid files, ownership checks, graceful then forced stop.

A process is *ours* only if its pid file says so **and** the live process
matches: same start (guards against pid reuse; counted from boot, so that a step of
the wall clock never makes the whole stack look like strangers) and it carries our
state-directory marker (its working directory, environment or command line). ``down`` never
signals anything else.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from dagstorm.core.atomic import atomic_write
from dagstorm.core.boot_clock import same_start, started_since_boot

#: Set only in the environment of processes the stack spawns (never the user's own
#: DAGSTORM_STATE_DIR), so that a sweep can never hit a user's shell or dagstorm run.
MARKER_ENV = "DAGSTORM_STACK_MEMBER"

# Popen objects of children started by this process, reaped when they exit so
# that a dead child never lingers as a zombie that looks alive.
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class PidRecord:
    """What a pid file holds."""

    component: str
    pid: int
    #: Wall-clock creation time, as psutil gives it (for people; moves when the clock is set).
    create_time: float
    marker: str
    argv: list[str]
    #: Seconds from boot to the process's start: what identity checks compare.
    #: ``None`` in pid files written before it existed (then ``create_time`` is compared).
    started: float | None = None

    def to_json(self) -> str:
        """Serialise for the pid file."""
        return json.dumps(asdict(self))

    @classmethod
    def read(cls, path: Path) -> PidRecord | None:
        """Read a pid file; ``None`` if missing or unreadable."""
        try:
            raw = json.loads(path.read_text())
            return cls(**raw)
        except (OSError, ValueError, TypeError):
            return None


# Exit codes of reaped children, so a start-up failure can say how the process ended.
_exit_codes: dict[int, int] = {}


def _reap(pid: int) -> None:
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        _exit_codes[pid] = child.returncode
        _children.pop(pid, None)


def process_of(record: PidRecord) -> psutil.Process | None:
    """The live process behind ``record`` if it is still ours, else ``None``."""
    _reap(record.pid)
    try:
        proc = psutil.Process(record.pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        if record.started is not None:
            if not same_start(record.pid, record.started):
                return None
        elif abs(proc.create_time() - record.create_time) > 1.0:
            return None
        if is_marked(proc, record.marker):
            return proc
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return None


def is_marked(proc: psutil.Process, marker: str, *, by_cwd: bool = True) -> bool:
    """True if ``proc`` carries our state-dir marker (working dir, environment or argv).

    The working directory counts because processes that set their title
    (setproctitle, as Airflow's do) overwrite both argv and the environment
    block that /proc shows, but keep the directory they were started in. It
    is only trusted together with a pid record or a process group of ours
    (``by_cwd=False`` otherwise: a user's shell may sit in the state dir).
    """
    if by_cwd:
        try:
            cwd = proc.cwd()
            if cwd == marker or cwd.startswith(marker + os.sep):
                return True
        except (psutil.AccessDenied, psutil.ZombieProcess, OSError):
            pass
    try:
        if proc.environ().get(MARKER_ENV) == marker:
            return True
    except (psutil.AccessDenied, psutil.ZombieProcess, OSError):
        pass
    try:
        return any(marker in part for part in proc.cmdline())
    except (psutil.AccessDenied, psutil.ZombieProcess, OSError):
        return False


def spawn(
    component: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    log_path: Path,
    pid_path: Path,
    marker: str,
    cwd: Path | None = None,
    user: str | None = None,
) -> PidRecord:
    """Start ``argv`` in its own session, output appended to ``log_path``, pid recorded."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    workdir = cwd or Path(marker) / "run"
    workdir.mkdir(parents=True, exist_ok=True)
    full_env = {**env, MARKER_ENV: marker}
    with log_path.open("ab") as log:
        log.write(f"\n=== dagstorm: starting {component} at {time.ctime()} ===\n".encode())
        log.flush()
        child = subprocess.Popen(
            list(argv),
            env=full_env,
            cwd=str(workdir),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=user,
        )
    _children[child.pid] = child
    try:
        create_time = psutil.Process(child.pid).create_time()
    except psutil.NoSuchProcess:
        create_time = time.time()
    record = PidRecord(
        component, child.pid, create_time, marker, list(argv), started_since_boot(child.pid)
    )
    atomic_write(pid_path, record.to_json())
    return record


def adopt(component: str, pid: int, *, pid_path: Path, marker: str) -> PidRecord:
    """Record a process we started indirectly (e.g. a daemon that forked)."""
    proc = psutil.Process(pid)
    record = PidRecord(
        component, pid, proc.create_time(), marker, proc.cmdline(), started_since_boot(pid)
    )
    pid_path.write_text(record.to_json())
    return record


def exit_code_of(pid: int) -> int | None:
    """Exit code of a child started by this process, if it has exited."""
    _reap(pid)
    return _exit_codes.get(pid)


def group_members(pgid: int, marker: str) -> list[psutil.Process]:
    """Live processes of process group ``pgid`` that carry our marker."""
    members: list[psutil.Process] = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and is_marked(proc, marker):
                members.append(proc)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return members


def stop(
    record: PidRecord,
    *,
    graceful: signal.Signals = signal.SIGTERM,
    timeout: float = 20.0,
) -> str:
    """Stop a process of ours and what is left of its group.

    The graceful signal goes to the leader only (a daemon shuts its own children
    down); SIGKILL follows after ``timeout``. Stragglers of the group get
    SIGTERM, then SIGKILL. Returns ``"stopped"``, ``"killed"`` or ``"not running"``.
    """
    leader = process_of(record)
    if leader is None and not group_members(record.pid, record.marker):
        return "not running"
    outcome = "stopped"
    if leader is not None:
        # A SIGSTOPped process (a paused broker) cannot act on a graceful signal.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(record.pid, signal.SIGCONT)
        with contextlib.suppress(psutil.Error):
            leader.send_signal(graceful)
        _, alive = psutil.wait_procs([leader], timeout=timeout)
        if alive:
            outcome = "killed"
            _kill_all([leader, *group_members(record.pid, record.marker)])
    stragglers = group_members(record.pid, record.marker)
    if stragglers:
        for proc in stragglers:
            with contextlib.suppress(psutil.Error):
                proc.terminate()
        _, alive = psutil.wait_procs(stragglers, timeout=5)
        _kill_all(alive)
    _reap(record.pid)
    return outcome


def sweep(marker: str) -> int:
    """Stop stray processes spawned for this stack that no pid file accounts for.

    Matches the spawn-time environment marker only; never this process or its
    ancestors. Returns how many processes were stopped.
    """
    spared = {os.getpid(), *(p.pid for p in psutil.Process().parents())}
    strays = []
    for proc in psutil.process_iter():
        try:
            if proc.pid in spared or proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if is_marked(proc, marker, by_cwd=False):
                strays.append(proc)
        except psutil.Error:
            continue
    for proc in strays:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _, alive = psutil.wait_procs(strays, timeout=5)
    _kill_all(alive)
    return len(strays)


def _kill_all(procs: list[psutil.Process]) -> None:
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(procs, timeout=5)


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file (empty if missing)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64_000))
            data = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])
