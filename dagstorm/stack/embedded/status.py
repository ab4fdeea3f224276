"""What `stack status` reports for one component: state, pid, version, URL, memory."""

from __future__ import annotations

import math
from dataclasses import dataclass

import psutil

from dagstorm.core.errors import DagstormError
from dagstorm.core.polling import poll_until
from dagstorm.stack.embedded.components.base import Component, Health
from dagstorm.stack.embedded.processes import process_of

#: A component is called unhealthy only after this many failed probes in a row,
#: ``_HEALTH_RETRY_S`` apart: a JVM in a GC pause, or a history server busy on two
#: cores while Airflow starts, may miss one probe's timeout without being ill.
_HEALTH_PROBES = 3
_HEALTH_RETRY_S = 2.0


def _settled_health(comp: Component) -> Health:
    """The component's health, probed again (up to ``_HEALTH_PROBES`` times) while it fails."""
    probes: list[Health] = []

    def settled() -> Health | None:
        probes.append(comp.health())
        last = probes[-1]
        done = last.ok or len(probes) >= _HEALTH_PROBES or comp.running() is None
        return last if done else None

    # Bounded by the count of probes (each has its own timeout), not by a deadline.
    poll_until(settled, timeout=math.inf, interval=_HEALTH_RETRY_S)
    return probes[-1]


@dataclass(frozen=True)
class ComponentStatus:
    """What `status` reports for one component."""

    name: str
    state: str  # running | unhealthy | stopped
    pid: int | None
    version: str
    url: str
    pss_mb: float | None
    detail: str
    log: str

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form."""
        return {
            "name": self.name,
            "state": self.state,
            "pid": self.pid,
            "version": self.version,
            "url": self.url,
            "pss_mb": self.pss_mb,
            "detail": self.detail,
            "log": self.log,
        }


def _pss_mb(proc: psutil.Process) -> float | None:
    """Proportional set size of a process and its children (shared pages split fairly)."""
    total = 0
    try:
        for member in [proc, *proc.children(recursive=True)]:
            info = member.memory_full_info()
            total += getattr(info, "pss", info.rss)
    except psutil.Error:
        return None
    return round(total / 2**20, 1)


def component_status(name: str, comp: Component) -> ComponentStatus:
    """The status row of component ``name``."""
    record = comp.running()
    proc = process_of(record) if record else None
    pss = _pss_mb(proc) if proc is not None else None
    if record is None:
        state, detail = "stopped", ""
    else:
        health = _settled_health(comp)
        state = "running" if health.ok else "unhealthy"
        detail = health.detail
    try:
        version = comp.version()
    except (OSError, DagstormError):
        version = "?"
    return ComponentStatus(
        name=name,
        state=state,
        pid=record.pid if record else None,
        version=version,
        url=comp.url(),
        pss_mb=pss,
        detail=detail,
        log=comp.log_path,
    )
