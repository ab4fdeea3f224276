"""Spawning and stopping one Locust master + N workers on 127.0.0.1, recorded by pid.

Each process is started through :func:`dagstorm.stack.embedded.processes.spawn`: its own
session, output in a log file, a pid file in the stack's ``run/`` directory and
the stack's marker in its environment — so ``dagstorm stack down`` sweeps strays.
A swarm file (``locust-<name>.swarm.json``) names the owner (this dagstorm
process) and the pid records: ``dagstorm recover`` stops the swarms whose owner
is gone (:func:`stop_orphan_swarms`).
"""

from __future__ import annotations

import json
import signal
import socket
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import psutil

from dagstorm.core.atomic import atomic_write
from dagstorm.core.boot_clock import alive_since, started_since_boot
from dagstorm.core.errors import InfrastructureError
from dagstorm.stack.embedded import processes
from dagstorm.stack.embedded.processes import PidRecord

LOCUSTFILES = Path(__file__).parent / "locustfiles"
SWARM_SUFFIX = ".swarm.json"
#: Seconds the master waits for its workers to connect before giving up.
EXPECT_WORKERS_WAIT = 60


class LocustMissingError(InfrastructureError):
    """The ``locust`` executable is not installed next to this Python."""


def locust_executable() -> Path:
    """``locust`` of this environment (installed with dagstorm)."""
    path = Path(sys.executable).parent / "locust"
    if not path.is_file():
        raise LocustMissingError(
            "the locust executable is missing",
            where=str(path.parent),
            fix="install dagstorm's dependencies (scripts/bootstrap.sh or pip install -e .)",
        )
    return path


def locustfile(user_kind: Literal["kafka", "trigger"]) -> Path:
    """The locustfile that runs users of ``user_kind``."""
    return LOCUSTFILES / f"{user_kind}_locustfile.py"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the master binds it next)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def master_argv(
    locust: Path, file: Path, *, port: int, workers: int, stop_timeout: float
) -> list[str]:
    """The master's command line: headless, bound to loopback, waiting for ``workers``."""
    return [
        str(locust),
        "-f",
        str(file),
        "--headless",
        "--master",
        "--master-bind-host=127.0.0.1",
        f"--master-bind-port={port}",
        f"--expect-workers={workers}",
        f"--expect-workers-max-wait={EXPECT_WORKERS_WAIT}",
        f"--stop-timeout={stop_timeout:g}",
        "--only-summary",
    ]


def worker_argv(locust: Path, file: Path, *, port: int) -> list[str]:
    """A worker's command line."""
    return [
        str(locust),
        "-f",
        str(file),
        "--worker",
        "--master-host=127.0.0.1",
        f"--master-port={port}",
    ]


@dataclass(frozen=True)
class Swarm:
    """The processes of one Locust run and the file that records them."""

    name: str
    master: PidRecord
    workers: tuple[PidRecord, ...]
    swarm_file: Path

    @property
    def records(self) -> tuple[PidRecord, ...]:
        """Master first, then the workers."""
        return (self.master, *self.workers)

    def master_alive(self) -> bool:
        """True while the master runs."""
        return processes.process_of(self.master) is not None

    def master_exit_code(self) -> int | None:
        """The master's exit code once it has exited (None while it runs)."""
        return processes.exit_code_of(self.master.pid)


def spawn_swarm(
    name: str,
    *,
    user_kind: Literal["kafka", "trigger"],
    workers: int,
    stop_timeout: float,
    env: Mapping[str, str],
    work_dir: Path,
    pid_dir: Path,
    marker: str,
) -> Swarm:
    """Start the master, then ``workers`` workers; logs go to ``work_dir``."""
    locust = locust_executable()
    file = locustfile(user_kind)
    port = free_port()
    pid_dir.mkdir(parents=True, exist_ok=True)
    started: list[PidRecord] = []
    argvs = [
        ("master", master_argv(locust, file, port=port, workers=workers, stop_timeout=stop_timeout))
    ]
    argvs += [(f"worker{i}", worker_argv(locust, file, port=port)) for i in range(workers)]
    swarm_file = pid_dir / f"locust-{name}{SWARM_SUFFIX}"
    try:
        for role, argv in argvs:
            component = f"locust-{name}-{role}"
            started.append(
                processes.spawn(
                    component,
                    argv,
                    env=env,
                    log_path=work_dir / f"{role}.log",
                    pid_path=pid_dir / f"{component}.pid",
                    marker=marker,
                    cwd=work_dir,
                )
            )
            _write_swarm_file(swarm_file, started)
    except OSError as exc:
        stop_records(started, pid_dir)
        swarm_file.unlink(missing_ok=True)
        raise InfrastructureError(
            f"could not start Locust ({exc})", where=str(locust), fix="check the locust install"
        ) from None
    return Swarm(name, started[0], tuple(started[1:]), swarm_file)


def _write_swarm_file(path: Path, records: list[PidRecord]) -> None:
    me = psutil.Process()
    body = {
        "owner_pid": me.pid,
        "owner_create_time": me.create_time(),
        "owner_started": started_since_boot(me.pid),
        "records": [asdict(r) for r in records],
    }
    atomic_write(path, json.dumps(body))


def stop_records(records: list[PidRecord] | tuple[PidRecord, ...], pid_dir: Path) -> list[str]:
    """Stop each process (SIGTERM, SIGKILL after 10 s) and remove its pid file."""
    outcomes = []
    for record in records:
        outcomes.append(processes.stop(record, graceful=signal.SIGTERM, timeout=10.0))
        (pid_dir / f"{record.component}.pid").unlink(missing_ok=True)
    return outcomes


def stop_swarm(swarm: Swarm, pid_dir: Path) -> list[str]:
    """Stop what is left of a swarm (workers first) and forget it."""
    outcomes = stop_records([*swarm.workers, swarm.master], pid_dir)
    swarm.swarm_file.unlink(missing_ok=True)
    return outcomes


def _owner_alive(pid: int, create_time: float, started: float | None) -> bool:
    if started is not None:
        return alive_since(pid, started)
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and abs(proc.create_time() - create_time) < 1.0
    except psutil.Error:
        return False


def stop_orphan_swarms(pid_dir: Path) -> list[str]:
    """Stop the swarms whose dagstorm process is gone; returns their names."""
    stopped = []
    for path in sorted(pid_dir.glob(f"locust-*{SWARM_SUFFIX}")):
        try:
            body = json.loads(path.read_text())
            started = body.get("owner_started")
            owner = (
                int(body["owner_pid"]),
                float(body["owner_create_time"]),
                None if started is None else float(started),
            )
            records = [PidRecord(**r) for r in body["records"]]
        except (OSError, ValueError, TypeError, KeyError):
            continue
        if _owner_alive(*owner):
            continue
        stop_records(records, pid_dir)
        path.unlink(missing_ok=True)
        stopped.append(path.name.removesuffix(SWARM_SUFFIX).removeprefix("locust-"))
    return stopped


def swarm_env(base: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """The environment of the Locust processes: ours plus ``extra`` (config path, credentials)."""
    env = {k: v for k, v in base.items() if not k.startswith("DAGSTORM_AIRFLOW_")}
    env.update(extra)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
