"""Progress for long work (installs, stack start-up, generation, analysis).

On a terminal, one live area lists every step in flight with a spinner and its
elapsed time (steps may run in parallel threads); finished steps are printed
above it. In CI logs (no TTY) each step prints one line when it starts and one
when it ends, with its duration.

A step whose amount is known (:meth:`Progress.meter`: bytes of a file, …) shows a
bar and its share on a terminal; in CI logs it adds one line at each quarter.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table

#: Shares at which a meter prints a line in CI logs (no TTY): a few lines, not one per update.
QUARTERS = (0.25, 0.5, 0.75)


class Progress:
    """Reports named steps, possibly from several threads at once."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self._console = Console(file=stream or sys.stderr, highlight=False)
        self._tty = self._console.is_terminal
        self._quiet = quiet
        self._lock = threading.RLock()
        self._ids = itertools.count()
        self._active: dict[int, tuple[str, float]] = {}
        #: A metered step's amount done and total, by its key.
        self._amounts: dict[int, tuple[float, float]] = {}
        self._live: Live | None = None

    def info(self, message: str) -> None:
        """A line of information."""
        if not self._quiet:
            self._console.print(f"  {message}", markup=False)

    def _render(self) -> RenderableType:
        now = time.monotonic()
        rows: list[RenderableType] = []
        with self._lock:
            for key, (title, started) in self._active.items():
                text = f"{title} … {now - started:.0f} s"
                amount = self._amounts.get(key)
                if amount is None:
                    rows.append(Spinner("dots", text=text))
                    continue
                done, total = amount
                grid = Table.grid(padding=(0, 1))
                grid.add_row(
                    Spinner("dots", text=text),
                    ProgressBar(total=total or 1.0, completed=min(done, total), width=30),
                    f"{_share(done, total):.0%}",
                )
                rows.append(grid)
        return Group(*rows)

    @contextmanager
    def meter(
        self,
        title: str,
        total: float,
        *,
        unit: str = "MB",
        per_unit: float = 1e6,
        quarter_lines: bool = True,
    ) -> Iterator[Callable[[float], None]]:
        """A :meth:`step` whose amount is known; yields ``update(done)`` (cheap: call it often).

        On a terminal the live line has a bar; in CI logs a line is printed as
        the share passes each quarter (``  read 50% (825 of 1,650 MB)``), so a
        long step prints a handful of lines however often it updates — unless
        ``quarter_lines`` is False (the caller prints lines of its own).
        """
        with self._timed(title) as key:
            marks = list(QUARTERS)
            with self._lock:
                self._amounts[key] = (0.0, total)  # the bar from the start, at 0 %

            def update(done: float) -> None:
                with self._lock:
                    self._amounts[key] = (done, total)
                if self._quiet or self._tty or not quarter_lines:
                    return
                share = _share(done, total)
                passed = [mark for mark in marks if share >= mark]
                if passed and done < total:  # the end is the step's own ✓ line
                    del marks[: len(passed)]
                    self.info(
                        f"{title}: {share:.0%} ({done / per_unit:,.0f} of"
                        f" {total / per_unit:,.0f} {unit})"
                    )

            try:
                yield update
            finally:
                with self._lock:
                    self._amounts.pop(key, None)

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        """Time a step; print its outcome (✓ or ✗) with the elapsed seconds."""
        with self._timed(title):
            yield

    @contextmanager
    def _timed(self, title: str) -> Iterator[int]:
        """:meth:`step`'s work; yields the step's key."""
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
            yield key
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


def _share(done: float, total: float) -> float:
    """``done`` of ``total`` in 0..1 (1 for an empty total)."""
    return 1.0 if total <= 0 else max(0.0, min(done / total, 1.0))
