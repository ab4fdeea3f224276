"""A component that fails to start: named, with cause, log path and tail; the rest stopped."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dagstorm.core.errors import ComponentStartError
from dagstorm.core.progress import Progress
from dagstorm.stack.config import StackConfig
from dagstorm.stack.embedded.components.base import Component, Health
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.launcher import EmbeddedStack


class _Crasher(Component):
    name = "kafka"
    start_timeout = 30.0

    def argv(self) -> list[str]:
        return [sys.executable, "-c", "print('broker: bad config line 7', flush=True); exit(4)"]

    def env(self) -> dict[str, str]:
        return {}

    def health(self) -> Health:
        return Health(False, "no answer")

    def version(self) -> str:
        return "0"

    def url(self) -> str:
        return "kafka://nowhere"


class _Slow(_Crasher):
    start_timeout = 1.0

    def argv(self) -> list[str]:
        return [
            sys.executable,
            "-c",
            "import time; print('warming up', flush=True); time.sleep(30)",
        ]


def _ctx(tmp_path: Path) -> StackContext:
    ctx = StackContext(StackConfig(state_dir=tmp_path), Progress(quiet=True))
    ctx.layout.ensure()
    return ctx


def test_a_crashing_component_is_named_with_exit_code_log_path_and_tail(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    stack = EmbeddedStack(ctx)
    comp = _Crasher(ctx)
    comp.start()
    import threading

    with pytest.raises(ComponentStartError) as info:
        stack._wait_healthy(comp, threading.Event())
    err = info.value
    assert err.component == "kafka"
    assert "exited (code 4)" in err.cause
    assert err.log_path == str(ctx.layout.log("kafka"))
    assert "bad config line 7" in err.log_tail
    assert "dagstorm stack logs kafka" in (err.fix or "")


def test_a_component_that_never_gets_healthy_times_out_clearly(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    stack = EmbeddedStack(ctx)
    comp = _Slow(ctx)
    record = comp.start()
    import threading

    from dagstorm.stack.embedded.processes import stop

    try:
        with pytest.raises(ComponentStartError) as info:
            stack._wait_healthy(comp, threading.Event())
        assert "not healthy after 1 s (no answer)" in info.value.cause
        assert "warming up" in info.value.log_tail
    finally:
        stop(record, timeout=5)
