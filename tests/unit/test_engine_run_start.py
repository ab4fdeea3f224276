"""run_start's environment: the machine, and the embedded stack's executor and versions."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

import pytest

from dagstorm.engine import run_start
from dagstorm.stack.embedded.components import airflow
from dagstorm.stack.embedded.context import StackContext


@dataclass
class _Row:
    name: str
    version: str


class _FakeStack:
    def __init__(self, _ctx: Any) -> None:
        pass

    def status(self) -> list[_Row]:
        return [_Row("airflow-scheduler", "3.3.2")]


def _context(executor: str) -> StackContext:
    settings = SimpleNamespace(executor=executor, task_heartbeat_timeout_s=None)
    return cast(StackContext, SimpleNamespace(config=SimpleNamespace(airflow=settings)))


@pytest.mark.parametrize(
    ("configured", "named"), [("local", "LocalExecutor"), ("celery", "CeleryExecutor")]
)
def test_the_embedded_stack_names_its_executor(
    monkeypatch: pytest.MonkeyPatch, configured: str, named: str
) -> None:
    monkeypatch.setattr(run_start, "EmbeddedStack", _FakeStack)
    env = run_start.environment(_context(configured))
    assert env["executor"] == named
    assert env["version.airflow-scheduler"] == "3.3.2"


def test_without_an_embedded_stack_no_executor_is_claimed() -> None:
    env = run_start.environment(None)
    assert "executor" not in env and env["cpus"] >= 1


def test_the_name_is_the_one_the_scheduler_runs_with() -> None:
    ctx = _context("local")
    assert airflow._executor_env(ctx)["AIRFLOW__CORE__EXECUTOR"] == airflow.executor_name(ctx)
