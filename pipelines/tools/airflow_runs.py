"""Trigger, wait for, clear and time the pipeline's DAG runs through Airflow's REST API.

Runs in dagstorm's environment (it uses dagstorm's stack config and credentials);
the integration tests use it, and so can a person::

    DAGSTORM_STACK_FILE=... python pipelines/tools/airflow_runs.py hourly 2024-05-01T13
    DAGSTORM_STACK_FILE=... python pipelines/tools/airflow_runs.py stream
    DAGSTORM_STACK_FILE=... python pipelines/tools/airflow_runs.py timings ad_logs_hourly RUN_ID

``hourly`` writes a sample partition (pipelines/tools/sample_data.py) if none is
there, triggers ``ad_logs_hourly`` for it, waits and prints where the time went;
``stream`` produces a sample batch to ``ad_events`` and its completion signal,
waits until the (continuously running) ``ad_events_stream`` has served it and
prints the same; ``timings`` prints that for an existing run, Spark's own split
included (from the Spark history server).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from dagstorm.clients.airflow import fetch_token
from dagstorm.stack.config import load_stack_config
from dagstorm.stack.endpoints import Stack, resolve_stack

FINISHED = frozenset({"success", "failed"})


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


class AirflowRuns:
    """A small REST client for DAG runs (token fetched once, valid 24 h)."""

    def __init__(self, stack: Stack, *, timeout: float = 30.0) -> None:
        token = fetch_token(stack.airflow_url, stack.airflow_username, stack.airflow_password)
        self.client = httpx.Client(
            base_url=f"{stack.airflow_url}/api/v2",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(
                f"{method} {path}: HTTP {response.status_code} {response.text[:500]}"
            )
        return response.json()

    def trigger(
        self,
        dag_id: str,
        conf: dict[str, Any],
        run_id: str | None = None,
        logical_date: datetime | None = None,
    ) -> str:
        """Queue a manual run (by default without a logical date); returns its run id."""
        run_id = run_id or f"dagstorm__{datetime.now(UTC):%Y%m%dT%H%M%S}_{uuid.uuid4().hex[:6]}"
        body = {
            "dag_run_id": run_id,
            "logical_date": logical_date.isoformat() if logical_date else None,
            "conf": conf,
        }
        self._json("POST", f"/dags/{dag_id}/dagRuns", json=body)
        return run_id

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """The run's document."""
        result: dict[str, Any] = self._json("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
        return result

    def wait(self, dag_id: str, run_id: str, timeout: float = 300.0) -> dict[str, Any]:
        """Poll until the run succeeds or fails; raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(dag_id, run_id)
            if run["state"] in FINISHED:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dag_id}/{run_id} still {run['state']} after {timeout:.0f} s")
            time.sleep(1.0)

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
        """Task id → task instance document."""
        data = self._json("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100")
        return {ti["task_id"]: ti for ti in data["task_instances"]}

    def tries(self, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
        """Every try of one task, in order."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/tries"
        tries: list[dict[str, Any]] = self._json("GET", path)["task_instances"]
        return sorted(tries, key=lambda t: t["try_number"])

    def clear(self, dag_id: str, run_id: str, task_ids: list[str] | None = None) -> None:
        """Clear tasks of a run (and their downstream), so they run again."""
        body: dict[str, Any] = {
            "dry_run": False,
            "dag_run_id": run_id,
            "only_failed": False,
            "reset_dag_runs": True,
            "include_downstream": True,
        }
        if task_ids:
            body["task_ids"] = task_ids
        self._json("POST", f"/dags/{dag_id}/clearTaskInstances", json=body)

    def latest_runs(self, dag_id: str, limit: int = 5) -> list[dict[str, Any]]:
        """The most recent runs first."""
        path = f"/dags/{dag_id}/dagRuns?limit={limit}&order_by=-run_after"
        runs: list[dict[str, Any]] = self._json("GET", path)["dag_runs"]
        return runs

    def timings(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """Run wall time, each task's duration and the scheduling gaps between them."""
        run = self.run(dag_id, run_id)
        tasks = [
            t
            for t in self.task_instances(dag_id, run_id).values()
            if t["start_date"] and t["end_date"] and t["state"] != "skipped"
        ]
        tasks.sort(key=lambda t: t["start_date"])
        start, end = _time(run["start_date"]), _time(run["end_date"])
        rows = []
        previous_end = start
        for task in tasks:
            began, ended = _time(task["start_date"]), _time(task["end_date"])
            assert began and ended
            gap = (began - previous_end).total_seconds() if previous_end else 0.0
            rows.append(
                {
                    "task_id": task["task_id"],
                    "try_number": task["try_number"],
                    "wait_before_s": round(gap, 2),
                    "duration_s": round((ended - began).total_seconds(), 2),
                }
            )
            previous_end = ended
        total = (end - start).total_seconds() if start and end else None
        return {"run_id": run_id, "state": run["state"], "wall_s": total, "tasks": rows}


def spark_timings(history_url: str, app_name: str, timeout: float = 30.0) -> dict[str, Any] | None:
    """Spark's split of one application, from the history server (None if not found)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=f"{history_url}/api/v1", timeout=10) as client:
        while True:
            apps = client.get("/applications?limit=200").json()
            app = next((a for a in apps if a["name"] == app_name), None)
            done = app is not None and app["attempts"][-1].get("completed")
            if done or time.monotonic() > deadline:
                break
            time.sleep(2.0)
        if app is None or not app["attempts"][-1].get("completed"):
            return None
        attempt = app["attempts"][-1]
        jobs = client.get(f"/applications/{app['id']}/jobs").json()
        executors = client.get(f"/applications/{app['id']}/allexecutors").json()
    app_start = _time(attempt["startTime"].replace("GMT", "+00:00"))
    app_end = _time(attempt["endTime"].replace("GMT", "+00:00"))
    submitted = [_time(j["submissionTime"].replace("GMT", "+00:00")) for j in jobs]
    completed = [_time(j["completionTime"].replace("GMT", "+00:00")) for j in jobs]
    added = [_time(e["addTime"].replace("GMT", "+00:00")) for e in executors if e["id"] != "driver"]
    first = min(t for t in submitted if t)
    last = max(t for t in completed if t)
    assert app_start and app_end
    return {
        "app_id": app["id"],
        "jobs": len(jobs),
        "app_s": round((app_end - app_start).total_seconds(), 2),
        "context_to_executor_s": (
            round((min(t for t in added if t) - app_start).total_seconds(), 2) if added else None
        ),
        "context_to_first_job_s": round((first - app_start).total_seconds(), 2),
        "jobs_s": round((last - first).total_seconds(), 2),
        "after_last_job_s": round((app_end - last).total_seconds(), 2),
        "app_start": app_start.isoformat(),
    }


def _print_timings(runs: AirflowRuns, stack: Stack, dag_id: str, run_id: str) -> None:
    report = runs.timings(dag_id, run_id)
    print(f"{dag_id} {run_id}: {report['state']}, {report['wall_s']} s from start to end")
    for row in report["tasks"]:
        print(
            f"  {row['task_id']:22} waited {row['wait_before_s']:6.2f} s,"
            f" ran {row['duration_s']:6.2f} s (try {row['try_number']})"
        )
    spark_task = next((r for r in report["tasks"] if r["task_id"].startswith("aggregate")), None)
    if spark_task and stack.spark_history_url:
        instances = runs.task_instances(dag_id, run_id)
        ti = instances[spark_task["task_id"]]
        name = ti.get("rendered_fields", {}).get("name")
        spark = spark_timings(stack.spark_history_url, name) if name else None
        if spark:
            began = _time(ti["start_date"])
            assert began
            launch = (datetime.fromisoformat(spark["app_start"]) - began).total_seconds()
            print(
                f"  spark {spark['app_id']}: task start → SparkContext {launch:.2f} s,"
                f" context → executor {spark['context_to_executor_s']} s,"
                f" context → first job {spark['context_to_first_job_s']} s,"
                f" {spark['jobs']} jobs {spark['jobs_s']} s,"
                f" after last job {spark['after_last_job_s']} s"
            )


def _tools() -> Any:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import sample_data  # noqa: PLC0415 - the sibling tool, found via sys.path

    return sample_data


def run_hourly(runs: AirflowRuns, landing: Path, hour_text: str, scale: int) -> str:
    """Sample partition (unless one is there) → ad_logs_hourly run; returns its run id."""
    sample_data = _tools()
    hour = datetime.strptime(hour_text, "%Y-%m-%dT%H").replace(tzinfo=UTC)
    if not (sample_data.partition_dir(landing, hour) / "_SUCCESS").exists():
        sample_data.write_partition(landing, sample_data.make_sample(hour, scale=scale))
    run_id = runs.trigger("ad_logs_hourly", {"partition_hour": hour_text})
    runs.wait("ad_logs_hourly", run_id)
    return run_id


def run_stream(runs: AirflowRuns, stack: Stack, scale: int, timeout: float = 300.0) -> str:
    """Sample batch + signal → wait until ad_events_stream served it; returns the run id."""
    import json  # noqa: PLC0415 - only this command needs them

    import psycopg  # noqa: PLC0415

    from dagstorm.clients.kafka import KafkaProducer  # noqa: PLC0415

    sample_data = _tools()
    tag = f"manual{uuid.uuid4().hex[:8]}"
    sample = sample_data.make_sample(datetime(2024, 6, 1, 9, tzinfo=UTC), scale=scale, tag=tag)
    lines = [json.dumps(e) for e in sample.events + sample.duplicates] + sample.bad_lines
    producer = KafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all", linger_ms=5)
    try:
        metas = [f.get(timeout=60) for f in [producer.send("ad_events", x.encode()) for x in lines]]
        ranges: dict[str, list[int]] = {}
        for meta in metas:
            span = ranges.setdefault(str(meta.partition), [meta.offset, meta.offset + 1])
            span[0], span[1] = min(span[0], meta.offset), max(span[1], meta.offset + 1)
        signal = {"signal_id": tag, "topic": "ad_events", "ranges": ranges}
        producer.send("ad_events_control", json.dumps(signal).encode()).get(timeout=30)
    finally:
        producer.close(timeout=10)
    sent = time.monotonic()
    print(f"signal {tag}: {len(lines)} messages {ranges}")
    while time.monotonic() - sent < timeout:
        with psycopg.connect(stack.serving_db_dsn, connect_timeout=10) as conn:
            row = conn.execute(
                "SELECT run_id FROM ad_events_batches WHERE signal_id = %s", (tag,)
            ).fetchone()
        if row is not None:
            runs.wait("ad_events_stream", str(row[0]), timeout)
            print(f"signal sent → run finished (acked): {time.monotonic() - sent:.1f} s")
            return str(row[0])
        time.sleep(1.0)
    raise TimeoutError(f"signal {tag} not served after {timeout:.0f} s (is the DAG running?)")


def main(argv: list[str]) -> int:
    """CLI: ``hourly HOUR`` or ``timings DAG RUN``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    hourly = sub.add_parser("hourly", help="sample partition → ad_logs_hourly run → timings")
    hourly.add_argument("hour", help="YYYY-MM-DDTHH (UTC)")
    hourly.add_argument("--scale", type=int, default=1)
    stream = sub.add_parser("stream", help="sample Kafka batch + signal → timings")
    stream.add_argument("--scale", type=int, default=1)
    timing = sub.add_parser("timings", help="timings of an existing run")
    timing.add_argument("dag_id")
    timing.add_argument("run_id")
    args = parser.parse_args(argv)
    config = load_stack_config()
    stack = resolve_stack(config)
    runs = AirflowRuns(stack)
    try:
        if args.command == "hourly":
            landing = config.resolved_state_dir() / "landing"
            run_id = run_hourly(runs, landing, args.hour, args.scale)
            _print_timings(runs, stack, "ad_logs_hourly", run_id)
        elif args.command == "stream":
            run_id = run_stream(runs, stack, args.scale)
            _print_timings(runs, stack, "ad_events_stream", run_id)
        else:
            _print_timings(runs, stack, args.dag_id, args.run_id)
    finally:
        runs.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
