"""The Celery probe: queue depths, workers alive/stopped, an unreachable broker, its wiring."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from dagstorm.clients.redis import RedisUnreachable
from dagstorm.core.progress import Progress
from dagstorm.engine.probe_set import celery_probe
from dagstorm.plugin.context import RunContext
from dagstorm.probes.celery_broker import CeleryProbe, QueueReader, broker_client
from dagstorm.probes.celery_logs import TaskCounts, TaskLineCounter
from dagstorm.run.clock import WallClock
from dagstorm.run.journal import RunJournal, read_journal
from dagstorm.stack.config import StackConfig
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.launcher import EmbeddedStack
from dagstorm.stack.endpoints import resolve_stack


class FakeBroker:
    """Answers the depths it is given, or raises when ``down``."""

    def __init__(self, depths: dict[str, int], *, down: bool = False) -> None:
        self.depths = depths
        self.down = down
        self.asked: list[list[str]] = []
        self.closed = False

    def queue_depths(self, queues: Iterable[str]) -> dict[str, int]:
        names = list(queues)
        self.asked.append(names)
        if self.down:
            raise RedisUnreachable("Redis refused the connection")
        return {n: self.depths.get(n, 0) for n in names}

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def stopped_child() -> Iterator[psutil.Process]:
    """A child process stopped with SIGSTOP (a paused worker); killed afterwards."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        os.kill(child.pid, signal.SIGSTOP)
        proc = psutil.Process(child.pid)
        # Bounded (10 s): the stop is asynchronous, and slow on a loaded machine (a
        # 2 s bound failed once while the integration suite ran beside it).
        for _ in range(500):
            if proc.status() == psutil.STATUS_STOPPED:
                break
            time.sleep(0.02)
        assert proc.status() == psutil.STATUS_STOPPED, "the child did not stop within 10 s"
        yield proc
    finally:
        child.kill()
        child.wait(10)


def _events(journal: RunJournal, kind: str) -> list[dict[str, Any]]:
    journal.close()
    return [e for e in read_journal(journal.path) if e["kind"] == kind]


def _probe(journal: RunJournal, broker: QueueReader, **kwargs: Any) -> CeleryProbe:
    return CeleryProbe(journal, WallClock(1.0), interval=3600.0, broker=lambda: broker, **kwargs)


def test_queue_depths_and_workers_are_journaled(
    tmp_path: Path, stopped_child: psutil.Process
) -> None:
    journal = RunJournal(tmp_path / "journal.jsonl", WallClock(1.0))
    broker = FakeBroker({"default": 7, "spark": 2})
    workers = {"w1": psutil.Process(), "w2": stopped_child, "w3": None}
    probe = _probe(journal, broker, queues=("default", "spark"), workers=lambda: workers)
    probe.sample()
    probe.teardown()
    assert broker.asked == [["default", "spark"]] and broker.closed
    queues = _events(journal, "celery_queue")
    assert [(e["queue"], e["depth"]) for e in queues] == [("default", 7), ("spark", 2)]
    (seen,) = [e for e in read_journal(journal.path) if e["kind"] == "celery_workers"]
    assert (seen["alive"], seen["total"], seen["stopped"]) == (1, 3, 1)


def test_an_unreachable_broker_is_one_probe_error_and_workers_still_counted(
    tmp_path: Path,
) -> None:
    journal = RunJournal(tmp_path / "journal.jsonl", WallClock(1.0))
    probe = _probe(journal, FakeBroker({}, down=True), workers=lambda: {"w1": psutil.Process()})
    probe.sample()
    assert probe.errors == 1
    (error,) = _events(journal, "probe_error")
    assert error["probe"] == "celery"
    assert error["error"] == "Celery broker unreachable: Redis refused the connection"
    events = read_journal(journal.path)
    assert [e["alive"] for e in events if e["kind"] == "celery_workers"] == [1]
    assert not [e for e in events if e["kind"] == "celery_queue"]


def test_the_real_client_on_a_closed_port_is_a_probe_error_not_a_crash(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    journal = RunJournal(tmp_path / "journal.jsonl", WallClock(1.0))
    url = f"redis://:s3cret@127.0.0.1:{port}/0"
    probe = CeleryProbe(
        journal, WallClock(1.0), interval=3600.0, broker=lambda: broker_client(url, timeout=1.0)
    )
    probe.sample()
    probe.teardown()
    (error,) = _events(journal, "probe_error")
    assert error["error"].startswith("Celery broker unreachable: Redis")
    assert "s3cret" not in error["error"]


def _run_ctx(tmp_path: Path, executor: str) -> RunContext:
    config = StackConfig.model_validate(
        {"state_dir": str(tmp_path / "state"), "airflow": {"executor": executor}}
    )
    stack = resolve_stack(config, {})
    return RunContext(
        clock=WallClock(1.0),
        journal=RunJournal(tmp_path / "journal.jsonl", WallClock(1.0)),
        stack=stack,
        run_dir=tmp_path,
        state_dir=tmp_path / "state",
        seed=1,
        compression=1.0,
        duration_s=10.0,
        scenario_path=tmp_path / "s.yaml",
        embedded=StackContext(config=config, progress=Progress(quiet=True)),
    )


def test_the_engine_starts_it_only_on_a_celery_stack_with_redis_itself(tmp_path: Path) -> None:
    local = _run_ctx(tmp_path / "local", "local")
    assert local.stack.celery_broker_url is None
    assert (
        celery_probe(local, 2.0, EmbeddedStack(local.embedded) if local.embedded else None) is None
    )
    ctx = _run_ctx(tmp_path / "celery", "celery")
    url = ctx.stack.celery_broker_url
    assert url is not None
    config = StackConfig()
    # Redis's own port, not the celery-broker link's: a link fault must not blind it.
    assert url.endswith(f"@127.0.0.1:{config.ports.redis}/0")
    assert f":{config.ports.celery_broker}/" not in url
    assert url in ctx.stack.secret_values()
    password = url.split("//:", 1)[1].split("@", 1)[0]
    assert password and password in ctx.stack.secret_values()
    assert password not in repr(ctx.stack)
    embedded = EmbeddedStack(ctx.embedded) if ctx.embedded else None
    probe = celery_probe(ctx, 2.0, embedded)
    assert probe is not None and probe.queues == ("default",)
    assert probe.workers is not None
    assert sorted(c.path.name for c in probe.counters.values()) == [
        "airflow-celery-worker-1.log",
        "airflow-celery-worker-2.log",
    ]
    # No worker has a pid file yet: both declared, none alive.
    assert dict(probe.workers()) == {
        "airflow-celery-worker-1": None,
        "airflow-celery-worker-2": None,
    }


# Lines as an `airflow celery worker` of the embedded stack writes them (Airflow 3's
# structlog format around Celery's own messages).
RECEIVED = (
    "2026-12-06T23:48:29.434758Z [info     ] Task execute_workload"
    "[16392750-bdfa-437e-93c4-a03bae98bc8e] received [celery.worker.strategy] loc=strategy.py:161\n"
)
SUCCEEDED = (
    "2026-12-06T23:48:50.918934Z [info     ] Task execute_workload"
    "[16392750-bdfa-437e-93c4-a03bae98bc8e] succeeded in 21.480636210000284s: None"
    " [celery.app.trace] loc=trace.py:128\n"
)
RAISED = (
    "2026-12-06T23:49:00.000000Z [error    ] Task execute_workload"
    "[4e46f389-bc95-4637-9811-c934ed088b9e] raised unexpected: RuntimeError('x')"
    " [celery.app.trace] loc=trace.py:267\n"
)
OTHER = '    log.exception("Task failed with exception")\n'


def test_the_counter_counts_only_what_the_log_gains_in_whole_lines(tmp_path: Path) -> None:
    log = tmp_path / "airflow-celery-worker-1.log"
    log.write_text(RECEIVED * 3)  # before the run: not counted
    counter = TaskLineCounter(log)
    assert counter.update() == TaskCounts()
    with log.open("a") as handle:
        handle.write(RECEIVED + OTHER + SUCCEEDED + RAISED + RECEIVED[:40])  # a torn last line
    assert counter.update() == TaskCounts(received=1, succeeded=1, raised=1)
    with log.open("a") as handle:
        handle.write(RECEIVED[40:])
    assert counter.update().received == 2
    log.write_text(RECEIVED)  # replaced by a shorter log: counted from its top
    assert counter.update().received == 3
    missing = TaskLineCounter(tmp_path / "absent.log")
    assert missing.update() == missing.update() == TaskCounts()


def test_the_probe_journals_tasks_per_worker(tmp_path: Path) -> None:
    logs = {"w1": tmp_path / "w1.log", "w2": tmp_path / "w2.log"}
    logs["w1"].write_text(RECEIVED)
    journal = RunJournal(tmp_path / "journal.jsonl", WallClock(1.0))
    probe = _probe(journal, FakeBroker({}), logs=logs)
    probe.setup()
    logs["w1"].write_text(RECEIVED + RECEIVED + SUCCEEDED)
    logs["w2"].write_text(RECEIVED)
    probe.sample()
    rows = _events(journal, "celery_worker_tasks")
    assert [(e["worker"], e["received"], e["succeeded"], e["raised"]) for e in rows] == [
        ("w1", 1, 1, 0),
        ("w2", 1, 0, 0),
    ]
