"""Each run's own ports: the alert sink takes a free port when its own is held."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dagstorm.engine.alert_route import is_live_sink, open_sink, start_route
from dagstorm.probes.alert_sink import Alert, AlertSink
from dagstorm.stack.config import load_stack_config
from dagstorm.stack.endpoints import resolve_stack


@pytest.fixture
def held_port() -> Iterator[int]:
    """A loopback port another process's server holds while the test runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_a_taken_port_gives_the_sink_a_free_one_that_receives(held_port: int) -> None:
    received: list[Alert] = []
    sink = open_sink(held_port, received.append)
    try:
        assert sink.port not in (held_port, 0)
        answer = httpx.post(sink.url, json={"kind": "task_failed", "dag_id": "d"}, timeout=5)
        assert answer.status_code == 202
        assert [a.dag_id for a in received] == ["d"]
    finally:
        sink.stop()


def test_two_sinks_asking_for_one_port_both_listen() -> None:
    first = open_sink(0, lambda alert: None)
    try:
        second = open_sink(first.port, lambda alert: None)
        try:
            assert second.port != first.port
            assert is_live_sink(first.url) and is_live_sink(second.url)
        finally:
            second.stop()
    finally:
        first.stop()


def test_a_port_with_no_sink_is_not_live(held_port: int) -> None:
    sink = AlertSink(0, lambda alert: None)
    sink.start()
    url = sink.url
    sink.stop()
    assert not is_live_sink(url)


def test_without_airflow_the_route_is_the_sink_alone(tmp_path: Path, held_port: int) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        f"kind: external\nports: {{alert_sink: {held_port}}}\n"
        "external:\n  kafka_bootstrap: 127.0.0.1:9\n"
    )
    stack = resolve_stack(load_stack_config(path, env={}), env={})
    said: list[tuple[str, str]] = []
    route = start_route(stack, lambda alert: None, lambda level, text: said.append((level, text)))
    assert route is not None
    try:
        assert route.sink.port != held_port and route.replaced is None
        assert said == [("info", f"alert sink on port {route.sink.port} ({held_port} is taken)")]
    finally:
        route.stop(stack, lambda level, text: said.append((level, text)))
    assert len(said) == 1
