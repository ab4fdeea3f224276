"""Celery on an embedded CeleryExecutor stack: queue depths on the broker, workers alive.

Every interval, ``celery_queue`` per queue (LLEN of its Redis list: messages Airflow
sent that no worker took yet), ``celery_workers`` (the stack's worker processes
alive, and how many of them are stopped by a ``pause``) and ``celery_worker_tasks``
per worker (tasks taken and returned, counted in its log: :mod:`.celery_logs`).
The broker is read straight at Redis (``Stack.celery_broker_url``), not through
the ``celery-broker`` link, so a broker-link fault does not blind the probe. A
broker that does not answer is one ``probe_error`` line per sample; the workers
are still counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import psutil

from dagstorm.clients.redis import BrokerClient, RedisUnreachable
from dagstorm.probes.base import Probe
from dagstorm.probes.celery_logs import TaskLineCounter
from dagstorm.run.events import CeleryQueue, CeleryWorkers, CeleryWorkerTasks, ProbeError
from dagstorm.stack.embedded.launcher import EmbeddedStack
from dagstorm.stack.embedded.processes import process_of
from dagstorm.stack.topology import WORKER_PREFIX

__all__ = [
    "DEFAULT_QUEUES",
    "CeleryProbe",
    "QueueReader",
    "broker_client",
    "worker_logs",
    "worker_processes",
]

#: Airflow's ``[operators] default_queue``: the queue every task goes to unless its
#: operator names another (the embedded stack configures no other).
DEFAULT_QUEUES = ("default",)

#: Each worker component's live process (None: not running, or not ours any more).
WorkerProcesses = Callable[[], Mapping[str, psutil.Process | None]]


class QueueReader(Protocol):
    """What the probe needs of a broker client (:class:`BrokerClient`)."""

    def queue_depths(self, queues: Iterable[str]) -> dict[str, int]:
        """Messages waiting per queue (raises ``RedisUnreachable``)."""

    def close(self) -> None:
        """Drop the connection."""


#: Makes a broker client (a fake one in tests).
BrokerFactory = Callable[[], QueueReader]


def broker_client(url: str, *, timeout: float = 3.0) -> BrokerClient:
    """A read-only client of the Redis at ``url`` (``redis://:password@host:port/db``)."""
    parts = urlsplit(url)
    return BrokerClient(
        parts.hostname or "127.0.0.1", parts.port or 6379, parts.password, timeout=timeout
    )


def worker_processes(embedded: EmbeddedStack) -> dict[str, psutil.Process | None]:
    """The embedded stack's Celery worker components and their live processes."""
    found: dict[str, psutil.Process | None] = {}
    for name, component in embedded.components.items():
        if name.startswith(WORKER_PREFIX):
            record = component.record()
            found[name] = process_of(record) if record is not None else None
    return found


def worker_logs(embedded: EmbeddedStack) -> dict[str, Path]:
    """The log file of each Celery worker component of the embedded stack."""
    layout = embedded.ctx.layout
    return {
        name: layout.log(name) for name in embedded.components if name.startswith(WORKER_PREFIX)
    }


def _state(proc: psutil.Process | None) -> str:
    """``alive``, ``stopped`` (SIGSTOP) or ``gone``."""
    if proc is None:
        return "gone"
    try:
        status = proc.status()
    except psutil.Error:
        return "gone"
    if status in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
        return "gone"
    return "stopped" if status == psutil.STATUS_STOPPED else "alive"


class CeleryProbe(Probe):
    """``celery_queue`` (per queue) and ``celery_workers`` events."""

    name = "celery"

    def __init__(
        self,
        *args: object,
        broker: BrokerFactory,
        queues: Sequence[str] = DEFAULT_QUEUES,
        workers: WorkerProcesses | None = None,
        logs: Mapping[str, Path] | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.broker = broker
        self.queues = tuple(queues)
        self.workers = workers
        self.counters = {name: TaskLineCounter(path) for name, path in (logs or {}).items()}
        self._client: QueueReader | None = None

    def setup(self) -> None:
        """Note where each worker log stands: only this run's tasks count."""
        for counter in self.counters.values():
            counter.update()

    def sample(self) -> None:
        """Workers first (they need no network), then the queues."""
        for name, counter in self.counters.items():
            counts = counter.update()
            self.journal.emit(
                CeleryWorkerTasks(
                    worker=name,
                    received=counts.received,
                    succeeded=counts.succeeded,
                    raised=counts.raised,
                )
            )
        if self.workers is not None:
            states = [_state(p) for p in self.workers().values()]
            self.journal.emit(
                CeleryWorkers(
                    alive=states.count("alive"),
                    total=len(states),
                    stopped=states.count("stopped"),
                )
            )
        if self._client is None:
            self._client = self.broker()
        try:
            depths = self._client.queue_depths(self.queues)
        except RedisUnreachable as exc:
            self.errors += 1
            self.journal.emit(
                ProbeError(probe=self.name, error=f"Celery broker unreachable: {exc}")
            )
            return
        for queue, depth in depths.items():
            self.journal.emit(CeleryQueue(queue=queue, depth=depth))

    def teardown(self) -> None:
        """Close the broker client."""
        if self._client is not None:
            self._client.close()
