"""Airflow trigger ceiling per Locust worker, against a plain httpx loop in the same run.

Usage: .venv/bin/python bench/trigger_locust.py [--triggers N] [--configs 1x8,2x16]
                                                [--rounds R] [--dag DAG] [--plain-threads T]
       dagstorm bench trigger-locust [same options]
Needs a running embedded stack (`dagstorm stack up`; Airflow's API server is used) and
the DAG deployed; every trigger creates a DAG run (``conf: {"dagstorm_bench": ...}``).

Each config ``WxU`` runs dagstorm's ``kind: locust`` trigger users (the same code a
scenario runs) as 1 master + W workers with U users in all, waiting 0 s between
triggers, until ``--triggers`` POSTs were made. The peer, each round: the same
number of POSTs from a plain loop — ``--plain-threads`` threads, each with one
``httpx.Client``, one token, ``POST /api/v2/dags/{dag}/dagRuns`` back to back.
Rates are successful triggers over the wall seconds in which they ended (Locust:
from the journal's ``workload_stats``; the loop: first POST to last answer).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil

from dagstorm.core.progress import Progress
from dagstorm.stack.config import load_stack_config
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack, resolve_stack
from dagstorm.workloads.locust_swarm.spec import TriggerUserSpec
from dagstorm.workloads.locust_swarm.swarm_config import SwarmConfig
from dagstorm.workloads.locust_swarm.workload import drain_timeout

sys.path.insert(0, str(Path(__file__).resolve().parent))

import kafka_locust  # the sibling bench: one Locust swarm run to its end

TIMEOUT_S = 30.0


def run_locust(
    ctx: StackContext, stack: Stack, *, workers: int, users: int, triggers: int, dag: str, tmp: Path
) -> dict[str, Any]:
    """One Locust run; its figures from the journal."""
    url, username, password = stack.airflow_login()
    work = tmp / f"locust_{uuid.uuid4().hex[:8]}"
    work.mkdir()
    config = SwarmConfig(
        name="bench",
        user=TriggerUserSpec(dag=dag, conf={"dagstorm_bench": work.name}, wait=0.0),
        workers=workers,
        users=users,
        max_users=users,
        spawn_rate=100,
        duration_s=600,
        max_requests=triggers,
        drain_timeout_s=drain_timeout(30),
        airflow_url=url,
        stats_path=work / "stats.jsonl",
        stop_path=work / "stop",
    )
    cpu, events = kafka_locust.run_swarm(ctx, config, work, credentials=(username, password))
    stats = [e for e in events if e["kind"] == "workload_stats"]
    triggered = [e for e in events if e["kind"] == "dag_triggered"]
    ok = sum(1 for e in triggered if e.get("ok"))
    seconds = [e["second"] for e in stats if e["requests"]]
    span = (max(seconds) - min(seconds) + 1) if seconds else 0
    return {
        "name": f"locust {workers}x{users}",
        "workers": workers,
        "ok": ok,
        "failed": len(triggered) - ok,
        "seconds": span,
        "per_s": ok / span if span else 0.0,
        "cpu_s": cpu,
    }


def run_plain(stack: Stack, *, triggers: int, dag: str, threads: int) -> dict[str, Any]:
    """The same number of triggers from ``threads`` plain httpx loops."""
    url, username, password = stack.airflow_login()
    tag = f"plain_{uuid.uuid4().hex[:8]}"
    counts = {"ok": 0, "failed": 0}
    lock = threading.Lock()
    shares = [triggers // threads + (1 if i < triggers % threads else 0) for i in range(threads)]

    def loop(index: int, share: int) -> None:
        with httpx.Client(base_url=url, timeout=TIMEOUT_S) as client:
            answer = client.post("/auth/token", json={"username": username, "password": password})
            headers = {"Authorization": f"Bearer {answer.json().get('access_token', '')}"}
            for n in range(share):
                body = {
                    "logical_date": None,
                    "conf": {"dagstorm_bench": tag},
                    "dag_run_id": f"dagstorm__{tag}_t{index}_{n}",
                }
                try:
                    status = client.post(
                        f"/api/v2/dags/{dag}/dagRuns", json=body, headers=headers
                    ).status_code
                except httpx.HTTPError:
                    status = 0
                with lock:
                    counts["ok" if status in (200, 201) else "failed"] += 1

    cpu0, started = time.process_time(), time.monotonic()
    workers = [threading.Thread(target=loop, args=(i, s)) for i, s in enumerate(shares)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(TIMEOUT_S * (triggers + 1))
    wall, cpu = time.monotonic() - started, time.process_time() - cpu0
    return {
        "name": f"plain httpx x{threads}",
        "workers": 1,
        "ok": counts["ok"],
        "failed": counts["failed"],
        "seconds": round(wall, 1),
        "per_s": counts["ok"] / wall if wall else 0.0,
        "cpu_s": cpu,
    }


def main() -> None:
    """Run the rounds; print one row per run, then medians and the per-worker ceiling."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--triggers", type=int, default=600, help="DAG runs triggered per run")
    parser.add_argument(
        "--configs", default="1x8,2x16", help="WORKERSxUSERS (users in all), comma-separated"
    )
    parser.add_argument("--rounds", type=int, default=2, help="rounds (contenders alternate)")
    parser.add_argument("--dag", default="scheduler_bench_000", help="the DAG to trigger")
    parser.add_argument(
        "--plain-threads", type=int, default=1, help="threads of the plain httpx loop"
    )
    args = parser.parse_args()
    configs = [tuple(int(n) for n in c.split("x")) for c in args.configs.split(",")]
    config = load_stack_config()
    ctx = StackContext(config=config, progress=Progress(quiet=True))
    stack = resolve_stack(config)
    print(
        f"Airflow {stack.endpoint('airflow')}: {args.triggers} triggers of {args.dag} per run; "
        f"load average {psutil.getloadavg()[0]:.1f} on {psutil.cpu_count()} CPUs"
    )
    print(f"{'contender':>18} {'ok':>6} {'failed':>6} {'s':>6} {'triggers/s':>10} {'CPU s':>6}")
    rows: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="dagstorm-bench-trigger-") as tmp:
        for _ in range(args.rounds):
            runs = [
                run_locust(
                    ctx,
                    stack,
                    workers=w,
                    users=u,
                    triggers=args.triggers,
                    dag=args.dag,
                    tmp=Path(tmp),
                )
                for w, u in configs
            ]
            runs.append(
                run_plain(stack, triggers=args.triggers, dag=args.dag, threads=args.plain_threads)
            )
            for row in runs:
                rows.setdefault(row["name"], []).append(row)
                print(
                    f"{row['name']:>18} {row['ok']:>6} {row['failed']:>6} {row['seconds']:>6} "
                    f"{row['per_s']:>10.1f} {row['cpu_s']:>6.1f}",
                    flush=True,
                )
    plain = statistics.median(r["per_s"] for r in rows[f"plain httpx x{args.plain_threads}"])
    print(f"\nmedian over {args.rounds} round(s); plain httpx loop: {plain:.1f} triggers/s")
    for w, u in configs:
        rate = statistics.median(r["per_s"] for r in rows[f"locust {w}x{u}"])
        print(
            f"  {w} worker(s), {u:>2} users: {rate:7.1f} triggers/s, {rate / w:7.1f} per worker,"
            f" x{rate / plain:.2f} the plain loop"
        )


if __name__ == "__main__":
    main()
