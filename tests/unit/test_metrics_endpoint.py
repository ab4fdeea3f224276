"""The Prometheus endpoint: a replayed journal scraped over HTTP and parsed independently."""

from __future__ import annotations

import json
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.parser import text_string_to_metric_families

from dagstorm.core.errors import UsageError
from dagstorm.metrics import LiveMetrics, MetricsAddress, MetricsServer, serve_metrics

SMOKE = Path(__file__).parents[1] / "fixtures" / "report_runs" / "20261124T041804Z-smoke"
LINES = (SMOKE / "journal.jsonl").read_bytes().splitlines(keepends=True)
EVENTS = [json.loads(line) for line in LINES]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition, by (name, sorted labels), with the reference parser."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def exposition(live: LiveMetrics) -> str:
    """The text a scrape of ``live`` gets (its own registry, as the server has)."""
    registry = CollectorRegistry()
    registry.register(live)
    return generate_latest(registry).decode()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, MetricsServer]]:
    run_dir = tmp_path / "20261124T041804Z-smoke"
    run_dir.mkdir()
    journal = run_dir / "journal.jsonl"
    runner = SimpleNamespace(journal=None)
    with serve_metrics(runner, MetricsAddress(port=0)) as server:
        assert server is not None
        runner.journal = SimpleNamespace(path=journal)
        yield journal, server


def scrape(server: MetricsServer) -> tuple[str, str]:
    response = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=10)
    assert response.status_code == 200
    return response.headers["content-type"], response.text


def test_scrape_during_and_after_a_replayed_run(served: tuple[Path, MetricsServer]) -> None:
    journal, server = served
    applied = next(i for i, e in enumerate(EVENTS) if e["kind"] == "fault_applied")
    journal.write_bytes(b"".join(LINES[: applied + 1]))
    content_type, text = scrape(server)
    assert content_type == CONTENT_TYPE_PLAIN_0_0_4
    during = parse(text)
    so_far = EVENTS[: applied + 1]
    assert value(during, "dagstorm_faults_active") == 1
    fault = "network latency 250 ms on serving-db (both)"
    assert value(during, "dagstorm_fault_active", fault_id="slow-serving-db", fault=fault) == 1
    kinds = Counter(e["kind"] for e in so_far)
    assert (
        value(during, "dagstorm_journal_events_total", kind="process_stats")
        == kinds["process_stats"]
    )
    last_rss = {e["component"]: e["rss_mb"] for e in so_far if e["kind"] == "process_stats"}
    for component, rss in last_rss.items():
        got = value(during, "dagstorm_component_rss_bytes", component=component)
        assert got == pytest.approx(rss * 1e6)
    records = sum(e["records"] for e in so_far if e["kind"] == "workload_stats")
    assert value(during, "dagstorm_workload_records_total", workload="ad-logs") == records
    assert value(during, "dagstorm_run_finished") == 0
    assert value(during, "dagstorm_run_elapsed_seconds") == so_far[-1]["t"]
    assert value(during, "dagstorm_phase", phase="chaos") == 1

    journal.write_bytes(b"".join(LINES))
    after = parse(scrape(server)[1])
    assert value(after, "dagstorm_faults_active") == 0
    assert value(after, "dagstorm_run_finished") == 1
    last_state: dict[tuple[str, str], str] = {}
    for e in EVENTS:
        if e["kind"] == "dag_run":
            last_state[(e["dag_id"], e["run_id"])] = e["state"]
    for (dag, state), n in Counter((d, s) for (d, _), s in last_state.items()).items():
        assert value(after, "dagstorm_dag_runs", dag_id=dag, state=state) == n
    errors = Counter(e["probe"] for e in EVENTS if e["kind"] == "probe_error")
    for probe, n in errors.items():
        assert value(after, "dagstorm_probe_errors_total", probe=probe) == n
    slos = {
        s
        for (name, labels), _ in after.items()
        if name == "dagstorm_slo_passed"
        for k, s in labels
        if k == "slo"
    }
    assert slos == {"sla:ad_logs_hourly", "recovery_time:max", "lost_events", "duplicate_events"}
    # Lost events need the serving data read at the end: never measured live.
    assert value(after, "dagstorm_slo_measured", slo="lost_events", type="lost_events") == 0


def test_known_answers_from_hand_built_events(tmp_path: Path) -> None:
    live = LiveMetrics(tmp_path / "run", slo_every_s=0)
    start: dict[str, Any] = {
        "kind": "run_start",
        "t": 0,
        "sim": 0,
        "scenario": "hand",
        "time_compression": 10,
        "slos": [{"type": "scheduler_throughput", "min": 1}],
    }
    live.feed(
        [
            start,
            {"kind": "kafka_lag", "t": 1, "topic": "ad_events", "group": "loader", "lag": 40},
            {"kind": "kafka_lag", "t": 2, "topic": "ad_events", "group": "loader", "lag": 7},
            {"kind": "celery_queue", "t": 2, "queue": "default", "depth": 12},
            {"kind": "celery_queue", "t": 3, "queue": "default", "depth": 5},
            {"kind": "celery_workers", "t": 3, "alive": 1, "total": 2, "stopped": 1},
            {
                "kind": "workload_stats",
                "t": 2,
                "workload": "burst",
                "records": 300,
                "bytes": 9000,
                "acked": 290,
                "failed": 10,
                "interval_s": 2.0,
            },
            {"kind": "alert", "t": 3, "alert_kind": "task_retry"},
            {"kind": "fault_error", "t": 4, "fault_id": "f", "fault": "broker kill"},
            {
                "kind": "task_try",
                "t": 5,
                "dag_id": "d",
                "run_id": "r",
                "task_id": "a",
                "map_index": -1,
                "try_number": 1,
                "state": "failed",
            },
            {
                "kind": "task_try",
                "t": 6,
                "dag_id": "d",
                "run_id": "r",
                "task_id": "a",
                "map_index": -1,
                "try_number": 2,
                "state": "success",
            },
        ]
    )
    samples = parse(exposition(live))
    assert value(samples, "dagstorm_kafka_consumer_lag", topic="ad_events", group="loader") == 7
    assert value(samples, "dagstorm_celery_queue_depth", queue="default") == 5
    assert value(samples, "dagstorm_celery_workers", state="alive") == 1
    assert value(samples, "dagstorm_celery_workers", state="stopped") == 1
    assert value(samples, "dagstorm_celery_workers", state="total") == 2
    assert value(samples, "dagstorm_workload_failed_total", workload="burst") == 10
    assert value(samples, "dagstorm_workload_records_per_second", workload="burst") == 150
    assert value(samples, "dagstorm_alerts_total", alert_kind="task_retry") == 1
    assert value(samples, "dagstorm_fault_errors_total") == 1
    assert value(samples, "dagstorm_task_tries", state="failed") == 1
    assert value(samples, "dagstorm_task_tries", state="success") == 1
    assert value(samples, "dagstorm_run_info", scenario="hand", run="run") == 1
    name = "scheduler_throughput"
    assert value(samples, "dagstorm_slo_measured", slo=name, type=name) == 0  # < 1 minute
    # Nothing measured yet: the score is unknown, so it is absent rather than a false 0.
    assert not [key for key in samples if key[0] == "dagstorm_score"]


def test_label_values_are_escaped(tmp_path: Path) -> None:
    live = LiveMetrics(tmp_path / "run")
    name = 'a "quoted"\\ back\nslash'
    live.feed([{"kind": "run_start", "t": 0, "scenario": name}])
    samples = parse(exposition(live))
    assert value(samples, "dagstorm_run_info", scenario=name, run="run") == 1


def test_binds_loopback_and_refuses_a_taken_port() -> None:
    server = MetricsServer(MetricsAddress(port=0), lambda: None)
    try:
        assert server.host == "127.0.0.1"
        server.start()
        before_the_run = httpx.get(f"http://127.0.0.1:{server.port}/metrics")
        assert before_the_run.status_code == 200
        assert parse(before_the_run.text) == {}  # no samples until the journal exists
        assert httpx.get(f"http://127.0.0.1:{server.port}/other").status_code == 404
        with pytest.raises(UsageError, match="cannot serve metrics"):
            MetricsServer(MetricsAddress(port=server.port), lambda: None)
    finally:
        server.stop()
    with socket.socket() as probe:  # the port is free again once stopped
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", server.port))
