"""The alert sink (dagstorm/probes/alert_sink.py) and the pipeline's alert sender.

Both sides are real: the pipeline's post_alert (pipelines/dags/ad_pipeline/alerts.py,
stdlib only) posts to a real AlertSink on a free loopback port.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from dagstorm.core.errors import ServiceUnreachableError
from dagstorm.probes.alert_sink import MAX_BODY_BYTES, Alert, AlertSink

DAGS = Path(__file__).resolve().parents[2] / "pipelines" / "dags"


@pytest.fixture
def sink() -> Iterator[tuple[AlertSink, list[Alert]]]:
    received: list[Alert] = []
    with AlertSink(port=0, on_alert=received.append) as running:
        yield running, received


@pytest.fixture
def alerts(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(DAGS))
    from ad_pipeline import alerts as module

    return module


def _wait_for(received: list[Alert], count: int) -> None:
    deadline = time.monotonic() + 5
    while len(received) < count and time.monotonic() < deadline:
        time.sleep(0.02)


class FakeTI:
    dag_id = "ad_logs_hourly"
    task_id = "load_serving"
    run_id = "manual-1"
    map_index = -1
    try_number = 2
    max_tries = 3


def test_a_posted_alert_reaches_the_callback(
    sink: tuple[AlertSink, list[Alert]], alerts: ModuleType
) -> None:
    running, received = sink
    context: dict[str, Any] = {"ti": FakeTI(), "exception": ConnectionError("refused")}
    assert alerts.post_alert(alerts.task_payload(context, "task_retry"), url=running.url)
    _wait_for(received, 1)
    [alert] = received
    assert (alert.kind, alert.dag_id, alert.task_id, alert.run_id, alert.try_number) == (
        "task_retry",
        "ad_logs_hourly",
        "load_serving",
        "manual-1",
        2,
    )
    assert alert.exception_class == "ConnectionError"
    assert alert.time is not None and alert.time.tzinfo is not None
    assert running.received == 1


def test_bad_requests_are_refused_and_counted(sink: tuple[AlertSink, list[Alert]]) -> None:
    running, received = sink
    with httpx.Client(timeout=5) as client:
        assert client.post(running.url, content=b"{nope").status_code == 400
        assert client.post(running.url, json=["a"]).status_code == 400
        assert client.post(running.url, json={"dag_id": "x"}).status_code == 400  # no kind
        big = {"kind": "x", "pad": "a" * MAX_BODY_BYTES}
        assert client.post(running.url, json=big).status_code == 413
        assert client.post(running.url.replace("/alerts", "/other"), json={}).status_code == 404
        assert client.get(running.url).status_code == 200
    assert received == []
    assert running.rejected == 4


def test_a_failing_callback_does_not_break_the_sink() -> None:
    def explode(_: Alert) -> None:
        raise RuntimeError("boom")

    with AlertSink(port=0, on_alert=explode) as running, httpx.Client(timeout=5) as client:
        assert client.post(running.url, json={"kind": "a"}).status_code == 202
        assert client.post(running.url, json={"kind": "b"}).status_code == 202
        assert running.received == 2


def test_an_unreachable_sink_never_fails_the_sender_and_answers_fast(alerts: ModuleType) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    started = time.monotonic()
    assert alerts.post_alert({"kind": "x"}, url=f"http://127.0.0.1:{free_port}/alerts") is False
    assert time.monotonic() - started < alerts.TIMEOUT + 1


def test_a_sink_that_never_answers_costs_at_most_the_timeout(alerts: ModuleType) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        started = time.monotonic()
        assert (
            alerts.post_alert({"kind": "x"}, url=f"http://127.0.0.1:{port}/", timeout=0.5) is False
        )
        assert time.monotonic() - started < 2


def test_without_a_url_the_alert_is_dropped_quietly(
    alerts: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "airflow", None)  # no Airflow at all: import fails
    assert alerts.sink_url() is None
    assert alerts.post_alert({"kind": "x"}) is False


def test_a_taken_port_is_a_clear_error(sink: tuple[AlertSink, list[Alert]]) -> None:
    running, _ = sink
    with pytest.raises(ServiceUnreachableError, match="cannot listen"):
        AlertSink(port=running.port, on_alert=lambda _: None).start()


def test_stop_releases_the_port() -> None:
    first = AlertSink(port=0, on_alert=lambda _: None)
    first.start()
    port = first.port
    first.stop()
    again = AlertSink(port=port, on_alert=lambda _: None)
    again.start()
    again.stop()
