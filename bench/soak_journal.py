"""A synthetic 24 h compressed-soak run directory: ~10 M journal events (a bench fixture).

The kinds and their proportions follow a real run's journal (the smoke run in
tests/fixtures/report_runs/, scaled to a bigger stack and faster probes): per
wall second about 64 ``statsd`` samples, 24 ``process_stats`` (12 components,
every 0.5 s), 10 ``workload_stats`` (10 workloads), 8 ``kafka_lag``, 4
``kafka_offsets``, 2 ``spark_cluster``, a probe error every 2 s; an hourly
partition DAG run every 150 s (compression 24) with 6 tasks, 5 % of tries
failing once and retrying (with an alert), a trigger-storm DAG run every 5 s
with 2 tasks; a network fault every 20 minutes for 3 minutes. Deterministic
(seeded). The file is ~1.8 GB for 10 M events.

    python bench/soak_journal.py /tmp/soak-bench [--hours 24]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

ORIGIN = 1_790_000_000.0  # 2026-09-21T14:13:20Z
COMPRESSION = 24.0
COMPONENTS = (
    "postgres",
    "toxiproxy",
    "kafka",
    "spark-master",
    "spark-worker",
    "spark-history",
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "spark-driver",
    "dagstorm",
)
STATSD = tuple(
    [(f"scheduler.tasks.{n}", "gauge") for n in ("executable", "starving", "running")]
    + [("executor.open_slots", "gauge"), ("executor.queued_tasks", "gauge")]
    + [(f"pool.open_slots.pool_{i}", "gauge") for i in range(20)]
    + [(f"ti.finish.dag_{i}", "counter") for i in range(24)]
    + [("scheduler.scheduler_loop_duration", "timer"), ("dag_processing.total_parse_time", "timer")]
    + [(f"dagrun.duration.success.dag_{i}", "timer") for i in range(13)]
)  # 64 metrics, one sample each per second
SLOS = [
    {"sla": {"dag": "ad_logs_hourly", "within": "3h", "compliance": ">= 95%", "weight": 3}},
    {"recovery_time": {"p95": "<= 2h"}},
    {"scheduler_throughput": {"min": 10}},
    {"lost_events": 0},
    {"duplicate_events": 0},
]


def iso(t: float) -> str:
    """The UTC ISO time of wall second ``t`` of the run, as Airflow writes it."""
    return datetime.fromtimestamp(ORIGIN + t, UTC).isoformat()


class Writer:
    """Numbers and stamps events as the engine's journal does."""

    def __init__(self, path: Path) -> None:
        self.handle = path.open("wb", buffering=8 * 1024 * 1024)
        self.seq = 0

    def emit(self, t: float, kind: str, **fields: Any) -> None:
        self.seq += 1
        event = {
            "v": 1,
            "seq": self.seq,
            "t": round(t, 3),
            "wall": round(ORIGIN + t, 3),
            "sim": round(t * COMPRESSION, 3),
            "kind": kind,
            **fields,
        }
        self.handle.write(orjson.dumps(event) + b"\n")

    def close(self) -> None:
        self.handle.close()


def write_soak(run_dir: Path, hours: float = 24.0, seed: int = 24) -> int:
    """Write ``run_dir/journal.jsonl`` and ``scenario.yaml``; returns the event count."""
    run_dir.mkdir(parents=True, exist_ok=True)
    seconds = int(hours * 3600)
    rng = random.Random(seed)
    out = Writer(run_dir / "journal.jsonl")
    out.emit(
        0.0,
        "run_start",
        scenario="soak-bench",
        description="synthetic 24 h soak",
        seed=seed,
        time_compression=COMPRESSION,
        duration_s=float(seconds),
        stack_kind="embedded",
        dagstorm_version="bench",
        slos=SLOS,
        phases=[{"name": "soak", "start_s": 0.0, "end_s": float(seconds)}],
        environment={"python": "3.11", "cpus": 2},
    )
    out.emit(0.0, "phase_start", phase="soak")
    pending: list[tuple[float, str, dict[str, Any]]] = []
    for s in range(seconds):
        _probes(out, s, rng)
        if s % 150 == 0:
            pending.extend(_hourly_run(s, rng))
        if s % 5 == 0:
            pending.extend(_storm_run(s))
        if s % 1200 == 600:
            pending.extend(_fault(s))
        due = [p for p in pending if p[0] < s + 1]
        if due:
            pending = [p for p in pending if p[0] >= s + 1]
            for t, kind, fields in sorted(due, key=lambda p: p[0]):
                out.emit(max(t, s), kind, **fields)
    out.emit(float(seconds), "phase_end", phase="soak")
    out.emit(float(seconds), "run_end", status="completed", reason="", fault_errors=[])
    out.close()
    (run_dir / "scenario.yaml").write_text(
        "name: soak-bench\nworkloads:\n  - {kind: ad_logs, rate: 2TB/day, scale: 1/20000}\n"
    )
    return out.seq


def _probes(out: Writer, s: int, rng: random.Random) -> None:
    for i, (metric, kind) in enumerate(STATSD):
        t = s + i / 64
        if kind == "gauge":
            out.emit(t, "statsd", metric=metric, type=kind, value=float(rng.randint(0, 16)))
        elif kind == "counter":
            out.emit(t, "statsd", metric=metric, type=kind, value=float(rng.randint(0, 3)))
        else:
            p50 = rng.uniform(5, 50)
            out.emit(
                t,
                "statsd",
                metric=metric,
                type=kind,
                count=rng.randint(1, 5),
                p50_ms=round(p50, 3),
                p95_ms=round(p50 * 2, 3),
                max_ms=round(p50 * 3, 3),
            )
    for half in (0.0, 0.5):
        for component in COMPONENTS:
            out.emit(
                s + half,
                "process_stats",
                component=component,
                cpu_pct=round(rng.uniform(0, 90), 1),
                rss_mb=round(rng.uniform(100, 900), 1),
                processes=rng.randint(1, 12),
            )
    for w in range(10):
        records = rng.randint(200, 300)
        out.emit(
            s + 0.2,
            "workload_stats",
            workload=f"ad-logs-{w}",
            workload_kind="ad_logs",
            records=records,
            bytes=records * 340,
            interval_s=1.0,
            sim_generated_s=COMPRESSION,
        )
    for i in range(8):
        out.emit(
            s + 0.3,
            "kafka_lag",
            topic=f"ad_events_{i % 4}",
            group=f"g{i // 4}",
            lag=rng.randint(0, 5000),
        )
    for i in range(4):
        out.emit(
            s + 0.4,
            "kafka_offsets",
            topic=f"ad_events_{i}",
            end_offset_total=s * 1000 + i,
            partitions=3,
        )
    out.emit(
        s + 0.6,
        "spark_cluster",
        status="ALIVE",
        workers_alive=1,
        cores_used=1,
        cores=1,
        active_apps=1,
    )
    out.emit(
        s + 0.7,
        "spark_cluster",
        status="ALIVE",
        workers_alive=1,
        cores_used=0,
        cores=1,
        active_apps=0,
    )
    if s % 2 == 0:
        out.emit(s + 0.8, "probe_error", probe="spark-driver", error="ConnectError: refused")


def _run_events(
    dag: str,
    run_id: str,
    s: float,
    *,
    tasks: int,
    rng: random.Random,
    conf: dict[str, Any],
    fail_rate: float,
) -> list[tuple[float, str, dict[str, Any]]]:
    """A DAG run's dag_run and task_try state changes, with their journal times."""
    events: list[tuple[float, str, dict[str, Any]]] = []
    base = {
        "dag_id": dag,
        "run_id": run_id,
        "run_type": "manual",
        "logical_date": iso(s),
        "queued_at": iso(s),
        "conf": conf,
    }
    events.append((s, "dag_run", {**base, "state": "queued", "start_date": None, "end_date": None}))
    started = s + 1.0
    events.append(
        (
            started + 0.5,
            "dag_run",
            {**base, "state": "running", "start_date": iso(started), "end_date": None},
        )
    )
    t = started + 1.0
    for task in range(tasks):
        tries = 2 if rng.random() < fail_rate else 1
        for attempt in range(1, tries + 1):
            key = {
                "dag_id": dag,
                "run_id": run_id,
                "task_id": f"t{task}",
                "map_index": -1,
                "try_number": attempt,
                "pool": "default_pool",
                "hostname": "vm",
            }
            end = t + rng.uniform(1.0, 4.0)
            state = "up_for_retry" if attempt < tries else "success"
            events.append(
                (
                    t,
                    "task_try",
                    {
                        **key,
                        "state": "running",
                        "queued_when": iso(t - 0.5),
                        "start_date": iso(t),
                        "end_date": None,
                        "duration": None,
                    },
                )
            )
            events.append(
                (
                    end + 0.5,
                    "task_try",
                    {
                        **key,
                        "state": state,
                        "queued_when": iso(t - 0.5),
                        "start_date": iso(t),
                        "end_date": iso(end),
                        "duration": end - t,
                    },
                )
            )
            if state == "up_for_retry":
                events.append(
                    (
                        end + 1.0,
                        "alert",
                        {
                            "alert_kind": "task_retry",
                            "dag_id": dag,
                            "task_id": f"t{task}",
                            "run_id": run_id,
                            "try_number": attempt,
                            "received_at": ORIGIN + end + 1.0,
                        },
                    )
                )
            t = end + 0.5
    events.append(
        (
            t + 0.5,
            "dag_run",
            {**base, "state": "success", "start_date": iso(started), "end_date": iso(t)},
        )
    )
    return events


def _hourly_run(s: int, rng: random.Random) -> list[tuple[float, str, dict[str, Any]]]:
    hour = datetime.fromtimestamp(ORIGIN + s * COMPRESSION, UTC).strftime("%Y-%m-%dT%H")
    run_id = f"manual__{hour}:{s}"
    return [
        (
            s,
            "partition_written",
            {
                "workload": "ad-logs-0",
                "dt": hour[:10],
                "hour": int(hour[11:]),
                "records": 250_000,
                "valid": 249_000,
            },
        ),
        (s + 0.1, "dag_triggered", {"dag_id": "ad_logs_hourly", "run_id": run_id, "ok": True}),
        *_run_events(
            "ad_logs_hourly",
            run_id,
            s + 0.2,
            tasks=6,
            rng=rng,
            conf={"partition_hour": hour},
            fail_rate=0.05,
        ),
    ]


def _storm_run(s: int) -> list[tuple[float, str, dict[str, Any]]]:
    return _run_events(
        "scheduler_bench",
        f"storm__{s}",
        float(s),
        tasks=2,
        rng=random.Random(s),
        conf={},
        fail_rate=0.0,
    )


def _fault(s: int) -> list[tuple[float, str, dict[str, Any]]]:
    fault = {"fault_id": f"latency-{s}", "fault": "network latency 200 ms on serving-db"}
    return [
        (float(s), "fault_intent", fault),
        (s + 0.05, "fault_applied", {**fault, "took_s": 0.05}),
        (s + 180.0, "fault_reverted", {**fault, "took_s": 0.04}),
    ]


def main() -> None:
    """Write the fixture and print its size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="the run directory to write")
    parser.add_argument("--hours", type=float, default=24.0, help="hours of soak")
    args = parser.parse_args()
    started = time.monotonic()
    events = write_soak(args.run_dir, args.hours)
    size = (args.run_dir / "journal.jsonl").stat().st_size
    print(
        f"wrote {events:,} events ({size / 1e9:.2f} GB) in {time.monotonic() - started:.0f} s"
        f" to {args.run_dir}"
    )


if __name__ == "__main__":
    main()
