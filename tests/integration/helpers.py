"""Helpers several integration tests share: the pipeline's tools, waits, a SIGKILLed fault."""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from dagstorm.faults.journal import FaultJournal
from dagstorm.stack.embedded.context import StackContext

TOOLS = Path(__file__).resolve().parents[2] / "pipelines" / "tools"


def tool(name: str) -> ModuleType:
    """A module of pipelines/tools, imported by path (once)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def wait_for(what: str, check: Any, timeout: float) -> Any:
    """``check()``'s first truthy answer, asked every second; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1.0)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def dagstorm_command(ctx: StackContext, *args: str) -> list[str]:
    """``python -m dagstorm --state-dir <the stack's> ARGS…``."""
    return [sys.executable, "-m", "dagstorm", "--state-dir", str(ctx.layout.root), *args]


def inject_then_sigkill(
    ctx: StackContext,
    journal: FaultJournal,
    spec: list[str],
    *,
    ready: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    """`dagstorm fault inject SPEC` in a child, SIGKILLed once its fault is verified.

    With ``ready``, the kill waits (≤ 300 s) until ``ready(verified entry)`` also
    holds: e.g. until the fault reached every process it is meant to (a fault that
    keeps acting on new targets while it holds acts on none after the kill).
    Returns the fault journal's ``verified`` entry: the fault is left applied and
    orphaned, for `recover` to find.
    """
    child = subprocess.Popen(
        dagstorm_command(ctx, "-q", "fault", "inject", *spec, "--duration", "10m"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def verified() -> dict[str, Any] | None:
            assert child.poll() is None, f"`dagstorm fault inject` exited ({child.returncode})"
            return next(
                (
                    e
                    for e in journal.entries()
                    if e.get("event") == "verified" and e.get("pid") == child.pid
                ),
                None,
            )

        applied: dict[str, Any] = wait_for("the fault applied", verified, 300)
        if ready is not None:
            wait_for("the fault ready to be orphaned", lambda: ready(applied), 300)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    return applied
