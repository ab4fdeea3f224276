"""Shared fixtures of the TUI tests: the recorded smoke run and a growing copy of it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

FIXTURE = Path(__file__).parents[1] / "fixtures" / "runs" / "20261124T041804Z-smoke"


@pytest.fixture
def smoke_run() -> Path:
    """The recorded smoke run (finished: it replays)."""
    return FIXTURE


@pytest.fixture
def live_run(tmp_path: Path) -> Path:
    """A run directory whose journal has its first 300 lines (no run_end: it is live)."""
    run_dir = tmp_path / "20261124T041804Z-smoke"
    run_dir.mkdir()
    shutil.copy(FIXTURE / "scenario.yaml", run_dir)
    lines = (FIXTURE / "journal.jsonl").read_bytes().splitlines(keepends=True)
    (run_dir / "journal.jsonl").write_bytes(b"".join(lines[:300]))
    return run_dir


def journal_lines() -> list[bytes]:
    """Every line of the recorded journal."""
    return (FIXTURE / "journal.jsonl").read_bytes().splitlines(keepends=True)


async def wait_for(pilot: Pilot[None], predicate: Callable[[], bool], steps: int = 6000) -> None:
    """Let the app run until ``predicate`` holds (a condition, not a timed assertion).

    Bounded generously (about a minute of pauses): a loaded CI box replays slowly.
    """
    for _ in range(steps):
        if predicate():
            return
        await pilot.pause(0.01)
    raise AssertionError("condition not reached")


@pytest.fixture
def anyio_backend() -> str:
    """Pilot tests run on asyncio (anyio's pytest plugin; no extra dependency)."""
    return "asyncio"
