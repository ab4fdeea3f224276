"""Errors dagstorm expects, and the exit codes the CLI maps them to.

Every expected failure is a :class:`DagstormError`: it carries *what* failed,
*where* (a file:line, a component, a URL) and *how to fix it*, so the CLI can
print one clear line instead of a traceback.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in the README."""

    OK = 0
    SLO_FAILED = 1
    USAGE = 2
    INFRASTRUCTURE = 3
    INTERRUPTED = 130


class DagstormError(Exception):
    """Base of every error dagstorm expects; rendered by the CLI as one line."""

    exit_code: ExitCode = ExitCode.INFRASTRUCTURE

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.where = where
        self.fix = fix

    def render(self) -> str:
        """One line: ``where: what (fix: ...)``."""
        text = f"{self.where}: {self.what}" if self.where else self.what
        if self.fix:
            text += f" — fix: {self.fix}"
        return text


class UsageError(DagstormError):
    """Bad command-line flags or arguments."""

    exit_code = ExitCode.USAGE


class ConfigError(DagstormError):
    """An invalid stack config (dagstorm.stack.yaml, flags or environment)."""

    exit_code = ExitCode.USAGE


class ScenarioError(DagstormError):
    """An invalid scenario file."""

    exit_code = ExitCode.USAGE


class InfrastructureError(DagstormError):
    """Something outside dagstorm's control failed: a service, a registry, the OS."""

    exit_code = ExitCode.INFRASTRUCTURE


class InstallError(InfrastructureError):
    """A step of `dagstorm stack install` failed."""


class PortConflictError(InfrastructureError):
    """A port the stack needs is taken by a process that is not ours."""


class ComponentStartError(InfrastructureError):
    """A stack component did not start or did not become healthy in time."""

    def __init__(
        self,
        component: str,
        cause: str,
        *,
        log_path: str | None = None,
        log_tail: str = "",
        fix: str | None = None,
    ) -> None:
        where = f"log {log_path}" if log_path else None
        super().__init__(f"{component} failed to start: {cause}", where=where, fix=fix)
        self.component = component
        self.cause = cause
        self.log_path = log_path
        self.log_tail = log_tail


class ServiceUnreachableError(InfrastructureError):
    """A service the command needs does not answer."""


class StackNotRunningError(InfrastructureError):
    """The command needs a running stack and there is none."""


class ToxiproxyError(InfrastructureError):
    """The Toxiproxy API answered with an error or not at all."""

    def __init__(self, what: str, *, status: int | None = None, where: str | None = None) -> None:
        super().__init__(
            what, where=where, fix="check `dagstorm stack status` and the toxiproxy log"
        )
        self.status = status


class FaultError(InfrastructureError):
    """A fault could not be injected, verified or reverted."""


class WorkerHostError(InfrastructureError):
    """A worker host (network namespace, veth link, traffic shaping) could not be set up."""


class Interrupted(DagstormError):
    """The user interrupted the command (Ctrl-C, SIGTERM) after cleanup ran."""

    exit_code = ExitCode.INTERRUPTED


class ControlError(UsageError):
    """A control command could not be sent to a run (docs/control.md)."""


class PluginError(UsageError):
    """A plugin's kind cannot be loaded or clashes with another (exit code 2)."""
