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
from dagstorm.stack.embedded.launcher import EmbeddedStack, FirstFailure


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

    with pytest.raises(ComponentStartError) as info:
        stack._wait_healthy(comp, FirstFailure())
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

    from dagstorm.stack.embedded.processes import stop

    try:
        with pytest.raises(ComponentStartError) as info:
            stack._wait_healthy(comp, FirstFailure())
        assert "not healthy after 1 s (no answer)" in info.value.cause
        assert "warming up" in info.value.log_tail
    finally:
        stop(record, timeout=5)


class _Bystander(_Slow):
    """Starts first and would be healthy late: ends "aborted" when another one fails."""

    name = "postgres"
    start_timeout = 60.0


def _stack_of(
    ctx: StackContext, monkeypatch: pytest.MonkeyPatch, *components: Component
) -> EmbeddedStack:
    """An installed stack of just ``components`` (started in this order), its ports free."""
    monkeypatch.setattr("dagstorm.stack.embedded.launcher.Installer.is_installed", lambda _: True)
    monkeypatch.setattr("dagstorm.stack.embedded.launcher.check_free", lambda _: None)
    stack = EmbeddedStack(ctx)
    stack.components = {c.name: c for c in components}
    stack.order = tuple(stack.components)
    return stack


def test_up_raises_the_component_that_failed_not_the_first_bystander_in_start_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _ctx(tmp_path)
    stack = _stack_of(ctx, monkeypatch, _Bystander(ctx), _Crasher(ctx))

    with pytest.raises(ComponentStartError) as info:
        stack.up(deploy=False)

    assert info.value.component == "kafka"
    assert "exited (code 4)" in info.value.cause
    assert "bad config line 7" in info.value.log_tail
    # what did start is stopped again: the bystander is not left running
    assert stack.components["postgres"].running() is None


def test_a_bystander_names_the_component_whose_failure_aborted_it(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    stack = EmbeddedStack(ctx)
    comp = _Bystander(ctx)
    record = comp.start()
    failed = FirstFailure()
    failed.record("kafka", RuntimeError("exited"))
    failed.record("spark-master", RuntimeError("later"))  # only the first one is kept

    from dagstorm.stack.embedded.processes import stop

    try:
        with pytest.raises(ComponentStartError) as info:
            stack._wait_healthy(comp, failed)
        assert info.value.cause == "aborted: kafka failed"
        assert failed.component == "kafka"
    finally:
        stop(record, timeout=5)


class _BadPrepare(_Crasher):
    """Fails before it starts, with an error that is not dagstorm's own."""

    name = "spark-master"

    def prepare(self) -> None:
        raise FileNotFoundError("spark-defaults.conf.tmp")


def test_an_unexpected_error_is_named_by_the_component_it_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _ctx(tmp_path)
    stack = _stack_of(ctx, monkeypatch, _Bystander(ctx), _BadPrepare(ctx))

    with pytest.raises(ComponentStartError) as info:
        stack.up(deploy=False)

    assert info.value.component == "spark-master"
    assert info.value.cause == "FileNotFoundError: spark-defaults.conf.tmp"
    assert isinstance(info.value.__cause__, FileNotFoundError)
