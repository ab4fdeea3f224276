"""CPU and RSS of every stack component and of dagstorm itself."""

from __future__ import annotations

import psutil

from dagstorm.probes.base import Probe
from dagstorm.run.events import ProcessStats
from dagstorm.stack.embedded.launcher import EmbeddedStack
from dagstorm.stack.embedded.processes import process_of


class ProcessProbe(Probe):
    """``process_stats`` events: one per component per sample (process tree summed)."""

    name = "processes"

    def __init__(self, *args: object, embedded: EmbeddedStack | None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.embedded = embedded
        self._procs: dict[int, psutil.Process] = {}

    def _tree(self, root: psutil.Process) -> list[psutil.Process]:
        members = [root, *root.children(recursive=True)]
        # Reuse Process objects so cpu_percent measures since the previous sample.
        out = []
        for proc in members:
            cached = self._procs.get(proc.pid)
            if cached is None or cached.create_time() != proc.create_time():
                self._procs[proc.pid] = cached = proc
                cached.cpu_percent(None)
            out.append(cached)
        return out

    def _measure(self, component: str, root: psutil.Process) -> None:
        cpu, rss, count = 0.0, 0, 0
        for proc in self._tree(root):
            try:
                cpu += proc.cpu_percent(None)
                rss += proc.memory_info().rss
                count += 1
            except psutil.Error:
                continue
        self.journal.emit(
            ProcessStats(
                component=component,
                cpu_pct=round(cpu, 1),
                rss_mb=round(rss / 2**20, 1),
                processes=count,
            )
        )

    def sample(self) -> None:
        """Measure each component and dagstorm."""
        alive: set[int] = set()
        if self.embedded is not None:
            for name, comp in self.embedded.components.items():
                record = comp.record()
                proc = process_of(record) if record else None
                if proc is None:
                    self.journal.emit(
                        ProcessStats(component=name, cpu_pct=0.0, rss_mb=0.0, processes=0)
                    )
                    continue
                self._measure(name, proc)
                alive.update(p.pid for p in self._tree(proc))
        me = psutil.Process()
        own = self._procs.setdefault(me.pid, me)
        alive.add(me.pid)
        self.journal.emit(
            ProcessStats(
                component="dagstorm",
                cpu_pct=round(own.cpu_percent(None), 1),
                rss_mb=round(own.memory_info().rss / 2**20, 1),
                processes=1,
            )
        )
        for pid in list(self._procs):  # keep the cache bounded to live processes
            if pid not in alive:
                del self._procs[pid]
