"""The contract every embedded-stack component follows."""

from __future__ import annotations

import signal
from abc import ABC, abstractmethod
from dataclasses import dataclass

from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.processes import PidRecord, process_of, spawn


@dataclass(frozen=True)
class Health:
    """Outcome of one health probe."""

    ok: bool
    detail: str = ""


class Component(ABC):
    """One process of the embedded stack: how to prepare, start, probe and stop it."""

    #: A :data:`~dagstorm.stack.topology.ComponentName`, or a numbered Celery worker
    #: (``airflow-celery-worker-2``).
    name: str
    #: Components that must be healthy before this one starts.
    depends_on: tuple[str, ...] = ()
    #: Seconds to wait for the health signal after start.
    start_timeout: float = 90.0
    #: Signal for a graceful stop.
    stop_signal: signal.Signals = signal.SIGTERM
    #: Seconds between the graceful signal and SIGKILL.
    stop_timeout: float = 20.0
    #: Whether `up` runs :meth:`after_start` on it when it is already running (its
    #: setup follows the stack config, which may have changed since it started).
    reconcile_when_running: bool = False

    def __init__(self, ctx: StackContext) -> None:
        self.ctx = ctx

    @property
    def log_path(self) -> str:
        """The component's log file."""
        return str(self.ctx.layout.log(self.name))

    def prepare(self) -> None:  # noqa: B027 - optional hook
        """One-time or every-start preparation before the process starts."""

    @abstractmethod
    def argv(self) -> list[str]:
        """The command line."""

    @abstractmethod
    def env(self) -> dict[str, str]:
        """The process environment."""

    def user(self) -> str | None:
        """OS user to run as (None: the current user)."""
        return None

    @abstractmethod
    def health(self) -> Health:
        """Probe the component's real health signal (never raises)."""

    def after_start(self) -> None:  # noqa: B027 - optional hook
        """Work to do once the component is healthy (create proxies, roles, ...)."""

    @abstractmethod
    def version(self) -> str:
        """The component's version, as installed."""

    @abstractmethod
    def url(self) -> str:
        """Where users reach it."""

    def record(self) -> PidRecord | None:
        """The pid record, if a pid file exists."""
        return PidRecord.read(self.ctx.layout.pid_file(self.name))

    def running(self) -> PidRecord | None:
        """The pid record if the process is alive and ours."""
        record = self.record()
        if record is not None and process_of(record) is not None:
            return record
        return None

    def start(self) -> PidRecord:
        """Spawn the process (no waiting)."""
        return spawn(
            self.name,
            self.argv(),
            env=self.env(),
            log_path=self.ctx.layout.log(self.name),
            pid_path=self.ctx.layout.pid_file(self.name),
            marker=self.ctx.marker,
            user=self.user(),
        )
