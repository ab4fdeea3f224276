"""ad_logs_hourly end to end on the real stack: exact ground truth, reruns, retries, alerts.

A partition with a known answer (pipelines/tools/sample_data.py) is written to
the landing zone, the DAG is triggered through the REST API, and the serving
database must hold exactly the expected rows. The transient-failure test takes
the serving-db link down through Toxiproxy so the load task fails for real.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from dagstorm.clients.toxiproxy import ToxiproxyClient
from dagstorm.probes.alert_sink import Alert, AlertSink
from dagstorm.stack.deploy import PipelineSettings, deploy_pipeline
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack
from tests.integration.helpers import tool

pytestmark = pytest.mark.integration

DAG = "ad_logs_hourly"
RUN_TIMEOUT = 300.0
#: approx_count_distinct's error at these tiny cardinalities (exact counts are exact).
USERS_TOLERANCE = 0.1


def fresh_hour() -> datetime:
    """A past hour no other test (or earlier session) of this stack is likely to use.

    After the DAG's start_date (2024-01-01): a run with an earlier logical date has no tasks.
    """
    return datetime(2024, 1, 2, tzinfo=UTC) + timedelta(hours=random.randrange(24 * 365 * 2))


@pytest.fixture(scope="module")
def settings(stack_context: StackContext) -> PipelineSettings:
    deploy_pipeline(stack_context)  # idempotent; `stack up` did it already
    return PipelineSettings.for_embedded(stack_context)


@pytest.fixture(scope="module")
def runs(stack: Stack, settings: PipelineSettings) -> Iterator[Any]:
    client = tool("airflow_runs").AirflowRuns(stack)
    yield client
    client.close()


def served(stack: Stack, partition: datetime) -> dict[tuple[str, str, str], dict[str, Any]]:
    """ad_stats_hourly rows a partition loaded, by (event hour, campaign, ad)."""
    with psycopg.connect(stack.endpoint("serving_db"), connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT hour, campaign_id, ad_id, impressions, clicks, conversions, spend,"
            " approx_unique_users, run_id FROM ad_stats_hourly WHERE partition_hour = %s",
            (partition,),
        ).fetchall()
    return {
        (r[0].astimezone(UTC).strftime("%Y-%m-%dT%H:00:00Z"), r[1], r[2]): {
            "impressions": r[3],
            "clicks": r[4],
            "conversions": r[5],
            "spend": r[6],
            "users": r[7],
            "run_id": r[8],
        }
        for r in rows
    }


def assert_exact(stack: Stack, sample: Any, run_id: str) -> None:
    """The hour in the serving DB is exactly the sample's truth, loaded by ``run_id``."""
    rows = served(stack, sample.hour)
    assert set(rows) == set(sample.truth)
    for key, truth in sample.truth.items():
        row = rows[key]
        got = {k: row[k] for k in ("impressions", "clicks", "conversions", "spend")}
        want = {k: truth[k] for k in ("impressions", "clicks", "conversions")}
        assert got == {**want, "spend": Decimal(truth["spend"])}, key
        assert abs(row["users"] - truth["users"]) <= max(1, truth["users"] * USERS_TOLERANCE)
        assert row["run_id"] == run_id
    with psycopg.connect(stack.endpoint("serving_db"), connect_timeout=10) as conn:
        load = conn.execute(
            "SELECT run_id, input_records, bad_records, duplicate_records"
            " FROM ad_partition_loads WHERE hour = %s",
            (sample.hour,),
        ).fetchone()
    assert load == (run_id, sample.records, len(sample.bad_lines), len(sample.duplicates))


def write_sample(settings: PipelineSettings, **options: Any) -> Any:
    data = tool("sample_data")
    sample = data.make_sample(fresh_hour(), **options)
    data.write_partition(settings.landing_dir, sample)
    return sample


@pytest.fixture(scope="module")
def first_run(runs: Any, settings: PipelineSettings) -> tuple[Any, str]:
    """One partition with a known truth, processed once."""
    sample = write_sample(settings, scale=2, tag="hourly")
    run_id = runs.trigger(DAG, {"partition_hour": sample.hour.strftime("%Y-%m-%dT%H")})
    run = runs.wait(DAG, run_id, RUN_TIMEOUT)
    assert run["state"] == "success", runs.task_instances(DAG, run_id)
    return sample, run_id


def test_a_partition_is_served_exactly(stack: Stack, runs: Any, first_run: tuple[Any, str]) -> None:
    sample, run_id = first_run
    assert_exact(stack, sample, run_id)
    tasks = runs.task_instances(DAG, run_id)
    assert tasks["aggregate_light"]["state"] == "success"  # 2 x sample << volume_threshold
    assert tasks["aggregate_heavy"]["state"] == "skipped"
    validated = tasks["validate"]
    assert validated["state"] == "success" and validated["try_number"] == 1


def test_clearing_the_run_reruns_it_and_stays_exact(
    stack: Stack, runs: Any, first_run: tuple[Any, str]
) -> None:
    sample, run_id = first_run
    with psycopg.connect(stack.endpoint("serving_db")) as conn:
        before = conn.execute(
            "SELECT loaded_at FROM ad_partition_loads WHERE hour = %s", (sample.hour,)
        ).fetchone()
    runs.clear(DAG, run_id)
    time.sleep(2)
    run = runs.wait(DAG, run_id, RUN_TIMEOUT)
    assert run["state"] == "success"
    assert runs.task_instances(DAG, run_id)["load_serving"]["try_number"] >= 2
    assert_exact(stack, sample, run_id)
    with psycopg.connect(stack.endpoint("serving_db")) as conn:
        after = conn.execute(
            "SELECT loaded_at FROM ad_partition_loads WHERE hour = %s", (sample.hour,)
        ).fetchone()
    assert before is not None and after is not None and after[0] > before[0]


class Alerts:
    """Alerts received by the sink, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[Alert] = []

    def __call__(self, alert: Alert) -> None:
        with self._lock:
            self.items.append(alert)

    def of_run(self, run_id: str) -> list[Alert]:
        with self._lock:
            return [a for a in self.items if a.run_id == run_id]


def test_a_second_run_replaces_the_partition_and_a_late_hour_alerts(
    stack: Stack, runs: Any, settings: PipelineSettings
) -> None:
    sample = write_sample(settings, tag="again")
    conf = {"partition_hour": sample.hour.strftime("%Y-%m-%dT%H"), "volume_threshold": 1}
    received = Alerts()
    with AlertSink(stack.alert_sink_port, received):
        first = runs.trigger(DAG, conf)  # no logical date: no deadline
        assert runs.wait(DAG, first, RUN_TIMEOUT)["state"] == "success"
        # Logical date = the (long past) hour: its deadline (hour + 90 min) is missed at once.
        second = runs.trigger(DAG, conf, logical_date=sample.hour)
        assert runs.wait(DAG, second, RUN_TIMEOUT)["state"] == "success"
        deadline = time.monotonic() + 60
        while not received.of_run(second) and time.monotonic() < deadline:
            time.sleep(0.5)
    assert runs.task_instances(DAG, second)["aggregate_heavy"]["state"] == "success"
    assert_exact(stack, sample, second)
    assert [(a.kind, a.dag_id) for a in received.of_run(second)] == [("deadline_missed", DAG)]
    assert received.of_run(first) == []


def test_a_transient_failure_retries_with_growing_delays_and_alerts(
    stack: Stack, runs: Any, settings: PipelineSettings
) -> None:
    assert stack.toxiproxy_url is not None
    sample = write_sample(settings, tag="flaky")
    received = Alerts()
    with AlertSink(stack.alert_sink_port, received), ToxiproxyClient(stack.toxiproxy_url) as toxi:
        toxi.disable_proxy("serving-db")
        try:
            run_id = runs.trigger(DAG, {"partition_hour": sample.hour.strftime("%Y-%m-%dT%H")})
            run = runs.wait(DAG, run_id, RUN_TIMEOUT)
        finally:
            toxi.enable_proxy("serving-db")
        assert run["state"] == "failed"
        tries = runs.tries(DAG, run_id, "load_serving")
        assert [t["try_number"] for t in tries] == [1, 2, 3, 4]
        assert all(t["state"] in {"failed", "up_for_retry"} for t in tries)
        gaps = [
            (_ts(b["start_date"]) - _ts(a["end_date"])).total_seconds()
            for a, b in itertools.pairwise(tries)
        ]
        # Try n+1 waits at least 5 * 2**(n-1) s (retry_delay 5 s, backoff x2; Airflow adds
        # up to 100 % jitter, whole seconds), at most max_retry_delay 60 s (+ scheduling).
        floors = (5, 10, 20)
        assert all(g >= floor - 0.5 for g, floor in zip(gaps, floors, strict=True)), gaps
        assert gaps[0] < gaps[2] and max(gaps) <= 60 + 15, gaps
        deadline = time.monotonic() + 10
        while len(received.of_run(run_id)) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        got = [(a.kind, a.task_id, a.try_number) for a in received.of_run(run_id)]
        assert sorted(got, key=lambda x: x[2] or 0) == [
            ("task_retry", "load_serving", 1),
            ("task_retry", "load_serving", 2),
            ("task_retry", "load_serving", 3),
            ("task_failure", "load_serving", 4),
        ]
        alert = received.of_run(run_id)[0]
        assert alert.dag_id == DAG and alert.exception_class == "OperationalError"
        assert alert.time is not None

        runs.clear(DAG, run_id, ["load_serving"])
        time.sleep(2)
        assert runs.wait(DAG, run_id, RUN_TIMEOUT)["state"] == "success"
    assert_exact(stack, sample, run_id)


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
