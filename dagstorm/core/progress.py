"""Progress for long work (installs, stack start-up, generation).

On a terminal, one live area lists every step in flight with a spinner and its
elapsed time (steps may run in parallel threads); finished steps are printed
above it. In CI logs (no TTY) each step prints one line when it starts and one
when it ends, with its duration.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner


class Progress:
    """Reports named steps, possibly from several threads at once."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self._console = Console(file=stream or sys.stderr, highlight=False)
        self._tty = self._console.is_terminal
        self._quiet = quiet
        self._lock = threading.RLock()
        self._ids = itertools.count()
        self._active: dict[int, tuple[str, float]] = {}
        self._live: Live | None = None

    def info(self, message: str) -> None:
        """A line of information."""
        if not self._quiet:
            self._console.print(f"  {message}", markup=False)

    def _render(self) -> RenderableType:
        now = time.monotonic()
        with self._lock:
            rows = [
                Spinner("dots", text=f"{title} … {now - started:.0f} s")
                for title, started in self._active.values()
            ]
        return Group(*rows)

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        """Time a step; print its outcome (✓ or ✗) with the elapsed seconds."""
        key = next(self._ids)
        started = time.monotonic()
        with self._lock:
            self._active[key] = (title, started)
            if self._quiet:
                pass
            elif self._tty:
                if self._live is None:
                    self._live = Live(
                        get_renderable=self._render,
                        console=self._console,
                        refresh_per_second=8,
                        transient=True,
                    )
                    self._live.start()
            else:
                self._console.print(f"→ {title} …", markup=False)
        ok = False
        try:
            yield
            ok = True
        finally:
            elapsed = time.monotonic() - started
            with self._lock:
                self._active.pop(key, None)
                if not self._quiet:
                    mark = "✓" if ok else "✗"
                    self._console.print(f"{mark} {title} ({elapsed:.1f} s)", markup=False)
                if not self._active and self._live is not None:
                    self._live.stop()
                    self._live = None
