"""The executor of a stack dagstorm does not configure, from Airflow's REST API config."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest

from dagstorm.clients import airflow_config
from dagstorm.clients.airflow_config import airflow_executor, executor_of_config
from dagstorm.engine import run_start
from dagstorm.stack.endpoints import Stack


def config(value: str) -> dict[str, Any]:
    return {"sections": [{"name": "core", "options": [{"key": "executor", "value": value}]}]}


def api(status: int, body: Any) -> httpx.MockTransport:
    """An Airflow that issues a token and answers the config option with ``status``."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            return httpx.Response(201, json={"access_token": "tok"})
        assert request.headers["Authorization"] == "Bearer tok"
        assert request.url.path == "/api/v2/config/section/core/option/executor"
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("CeleryExecutor", "CeleryExecutor"),
        ("airflow.providers.celery.executors.celery_executor.CeleryExecutor", "CeleryExecutor"),
        ("LocalExecutor,CeleryExecutor", "LocalExecutor"),
        ("< hidden >", "unknown"),
        ("", "unknown"),
    ],
)
def test_the_config_value_names_the_executor(value: str, named: str) -> None:
    assert executor_of_config(config(value)) == named


def test_a_body_without_core_executor_is_unknown() -> None:
    assert executor_of_config({"sections": [{"name": "api", "options": []}]}) == "unknown"
    assert executor_of_config([]) == "unknown"


def test_read_through_the_api() -> None:
    transport = api(200, config("KubernetesExecutor"))
    assert airflow_executor("http://af:8080/", "u", "p", transport=transport) == (
        "KubernetesExecutor"
    )


def test_an_unexposed_config_or_an_unreachable_api_is_unknown() -> None:
    forbidden = api(403, {"detail": "Your Airflow administrator chose not to expose"})
    assert airflow_executor("http://af:8080", "u", "p", transport=forbidden) == "unknown"

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    down = httpx.MockTransport(refuse)
    assert airflow_executor("http://af:8080", "u", "p", transport=down) == "unknown"


def _stack(url: str | None, user: str | None = "u") -> Stack:
    fields = {"airflow_url": url, "airflow_username": user, "airflow_password": "p"}
    return cast(Stack, SimpleNamespace(**fields))


def test_run_start_asks_only_stacks_it_does_not_configure(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def fake(url: str, _user: str, _password: str) -> str:
        asked.append(url)
        return "CeleryExecutor"

    monkeypatch.setattr(run_start, "airflow_executor", fake)
    assert run_start.external_executor(_stack("http://af"), None) == {"executor": "CeleryExecutor"}
    assert run_start.external_executor(_stack(None), None) == {}
    assert run_start.external_executor(_stack("http://af", user=None), None) == {
        "executor": "unknown"
    }
    embedded = cast(Any, object())
    assert run_start.external_executor(_stack("http://af"), embedded) == {}
    assert asked == ["http://af"]
    assert airflow_config.UNKNOWN_EXECUTOR == "unknown"
