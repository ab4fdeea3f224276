"""Kafka through Locust workers: how the aggregate grows with worker processes.

Usage: .venv/bin/python bench/kafka_locust.py [--records N] [--configs 1x4,1x8,2x8] [--rounds R]
                                             [--batch N] [--batch-kib K] [--burst] [--java]
       dagstorm bench kafka-locust [same options]
Needs a running embedded stack (`dagstorm stack up`; only Kafka is used).

Each config ``WxU`` runs Locust as 1 master + W workers with U users in all
(dagstorm's ``kind: locust`` workload, the same code a scenario runs), with the same
records (ad events from the model, ~340 B) and the same total count, into a fresh
topic through the stack's Kafka link; producer settings: acks=all, lz4, linger
10 ms, batch 128 KiB. The default configs separate the two effects: more users in
one process (1x4 → 1x8) and the same users spread over more processes (1x8 → 2x8).
Rates are
acknowledged records (and bytes) over the wall seconds in which acks arrived,
from the journal's ``workload_stats``; the broker's end offsets are checked
against the journal. Rounds alternate the worker counts so drift hits both alike.

Peers in the same run, each round, same record count, settings and partitions:
``--burst`` runs dagstorm's plain ``kafka_burst`` workload in this process (the
column-batch producer the Locust users share; timed to its last ack, generation
included), ``--java`` Kafka's own ``ProducerPerformance`` on the same records
(its own clock); both as in bench/kafka_producer.py, and both checked against the
broker's end offsets.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import orjson
import psutil

from dagstorm.clients.kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from dagstorm.core.progress import Progress
from dagstorm.run.clock import WallClock
from dagstorm.run.journal import RunJournal
from dagstorm.stack.config import load_stack_config
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack, resolve_stack
from dagstorm.workloads.locust_swarm.spec import KafkaUserSpec
from dagstorm.workloads.locust_swarm.swarm_config import SwarmConfig
from dagstorm.workloads.locust_swarm.workload import LocustSwarm, drain_timeout

sys.path.insert(0, str(Path(__file__).resolve().parent))

import kafka_producer  # the sibling bench: its peers (kafka_burst, Java)

PARTITIONS = 6
BATCH = 500


def _topic(stack: Stack, create: bool, name: str, partitions: int = PARTITIONS) -> None:
    # Imported after dagstorm.clients.kafka, which silences kafka-python's import-time warnings.
    from kafka.admin import NewTopic  # noqa: PLC0415

    admin = KafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap, request_timeout_ms=30_000)
    try:
        if create:
            admin.create_topics([NewTopic(name, partitions, 1)])
        else:
            admin.delete_topics([name])
    finally:
        admin.close()


def _on_broker(stack: Stack, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, request_timeout_ms=30_000)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(parts).values())
    finally:
        consumer.close()


def run_swarm(
    ctx: StackContext,
    config: SwarmConfig,
    work: Path,
    *,
    credentials: tuple[str, str] | None = None,
) -> tuple[float, list[dict[str, Any]]]:
    """Run one Locust swarm to its end; its CPU seconds and its journal's events.

    The Locust processes are this process's children, reaped when stopped: their
    CPU is the growth of RUSAGE_CHILDREN over the run.
    """
    clock = WallClock(1.0)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    with RunJournal(work / "journal.jsonl", clock) as journal:
        swarm = LocustSwarm(
            "bench",
            journal,
            clock,
            config=config,
            stop_timeout=30,
            work_dir=work,
            pid_dir=ctx.layout.run_dir,
            marker=ctx.marker,
            credentials=credentials,
        )
        swarm.start()
        swarm.join(swarm.hard_timeout_s + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    events = [orjson.loads(line) for line in (work / "journal.jsonl").read_bytes().splitlines()]
    return cpu, events


def run_once(
    ctx: StackContext,
    stack: Stack,
    *,
    workers: int,
    users: int,
    records: int,
    tmp: Path,
    batch: int = BATCH,
    batch_kib: int = 128,
    partitions: int = PARTITIONS,
) -> dict[str, Any]:
    """One Locust run; its figures from the journal."""
    topic = f"bench_locust_{uuid.uuid4().hex[:8]}"
    _topic(stack, True, topic, partitions)
    work = tmp / topic
    work.mkdir()
    config = SwarmConfig(
        name="bench",
        user=KafkaUserSpec(topic=topic, batch_records=batch, linger_ms=10, batch_kib=batch_kib),
        workers=workers,
        users=users,
        max_users=users,
        spawn_rate=100,
        duration_s=600,
        max_requests=records // batch,
        drain_timeout_s=drain_timeout(30),
        kafka_bootstrap=stack.endpoint("kafka"),
        stats_path=work / "stats.jsonl",
        stop_path=work / "stop",
    )
    try:
        cpu, events = run_swarm(ctx, config, work)
        on_broker = _on_broker(stack, topic)
    finally:
        _topic(stack, False, topic)
    stats = [e for e in events if e["kind"] == "workload_stats"]
    seconds = [e["second"] for e in stats if e["acked"]]
    span = max(seconds) - min(seconds) + 1
    acked = sum(e["acked"] for e in stats)
    size = sum(e["bytes"] for e in stats)
    return {
        "workers": workers,
        "users": users,
        "acked": acked,
        "failed": sum(e["failed"] for e in stats),
        "on_broker": on_broker,
        "seconds": span,
        "records_s": acked / span,
        "mb_s": size / span / 1e6,
        "mean_bytes": size / max(1, acked),
        "locust_cpu_s": cpu,
        "records_cpu_s": acked / cpu if cpu else 0.0,
    }


def run_peers(
    args: argparse.Namespace, bootstrap: str, work: Path, payload: Path, size: float
) -> dict[str, kafka_producer.Result]:
    """This round's peers: the plain kafka_burst process and/or Java, same records and settings."""
    same = argparse.Namespace(
        records=args.records,
        batch_size=args.batch_kib * 1024,
        linger_ms=10,
        compression="lz4",
        profile=False,
    )
    peers: dict[str, kafka_producer.Result] = {}
    try:
        if args.burst:
            peers["burst"] = kafka_producer.run_dagstorm(same, bootstrap, work)
        if args.java:
            peers["java"] = kafka_producer.run_java(same, bootstrap, payload, size)
    finally:
        kafka_producer.delete_topics(bootstrap)
    return peers


def main() -> None:
    """Run the rounds; print one row per run, then medians and the ratios."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=400_000, help="records per run")
    parser.add_argument(
        "--configs", default="1x4,1x8,2x8", help="WORKERSxUSERS (users in all), comma-separated"
    )
    parser.add_argument("--rounds", type=int, default=2, help="rounds (configs alternate)")
    parser.add_argument("--batch", type=int, default=BATCH, help="records per Locust request")
    parser.add_argument(
        "--batch-kib", type=int, default=128, help="record batch size limit (KiB), all contenders"
    )
    parser.add_argument(
        "--partitions", type=int, default=PARTITIONS, help="partitions of each fresh topic"
    )
    parser.add_argument(
        "--burst", action="store_true", help="also run the plain kafka_burst process each round"
    )
    parser.add_argument(
        "--java", action="store_true", help="also run Kafka's ProducerPerformance each round"
    )
    args = parser.parse_args()
    kafka_producer.PARTITIONS = args.partitions  # the peers' topics: as many partitions
    configs = [tuple(int(n) for n in c.split("x")) for c in args.configs.split(",")]
    config = load_stack_config()
    ctx = StackContext(config=config, progress=Progress(quiet=True))
    stack = resolve_stack(config)
    print(
        f"Kafka {stack.kafka_bootstrap}: {args.records:,} records per run, batches of "
        f"{args.batch} records, {args.partitions} partitions, acks=all lz4 linger 10 ms batch "
        f"{args.batch_kib} KiB; load average {psutil.getloadavg()[0]:.1f} on "
        f"{psutil.cpu_count()} CPUs"
    )
    print(
        f"{'workers':>7} {'users':>5} {'acked':>9} {'on broker':>9} {'failed':>6} "
        f"{'s':>4} {'records/s':>10} {'MB/s':>6} {'B/rec':>5} {'Locust CPU-s':>12} "
        f"{'records/CPU-s':>13}"
    )
    results: dict[tuple[int, ...], list[dict[str, Any]]] = {c: [] for c in configs}
    peers: dict[str, list[kafka_producer.Result]] = {"burst": [], "java": []}
    with tempfile.TemporaryDirectory(prefix="dagstorm-bench-locust-") as tmp:
        messages: list[bytes] = []
        payload = Path(tmp) / "payload.jsonl"
        if args.java:
            messages = kafka_producer.sample_messages(min(args.records, 100_000))
            payload.write_bytes(b"\n".join(messages) + b"\n")
        size = sum(map(len, messages)) / len(messages) if messages else 0.0
        for _ in range(args.rounds):
            for workers, users in configs:
                row = run_once(
                    ctx,
                    stack,
                    workers=workers,
                    users=users,
                    records=args.records,
                    tmp=Path(tmp),
                    batch=args.batch,
                    batch_kib=args.batch_kib,
                    partitions=args.partitions,
                )
                results[(workers, users)].append(row)
                print(
                    f"{row['workers']:>7} {row['users']:>5} {row['acked']:>9,} "
                    f"{row['on_broker']:>9,} {row['failed']:>6} {row['seconds']:>4} "
                    f"{row['records_s']:>10,.0f} {row['mb_s']:>6.1f} {row['mean_bytes']:>5.0f} "
                    f"{row['locust_cpu_s']:>12.1f} {row['records_cpu_s']:>13,.0f}",
                    flush=True,
                )
            for name, result in run_peers(
                args, stack.endpoint("kafka"), Path(tmp), payload, size
            ).items():
                peers[name].append(result)
                print(
                    f"  {result.name}: {result.records:,} records, {result.records_s:,.0f}"
                    f" records/s, {result.mb_s:.1f} MB/s",
                    flush=True,
                )
    first = configs[0]
    base = statistics.median(r["records_s"] for r in results[first])
    burst = statistics.median(r.records_s for r in peers["burst"]) if peers["burst"] else None
    java = statistics.median(r.records_s for r in peers["java"]) if peers["java"] else None
    print(f"\nmedian over {args.rounds} round(s):")
    for name, rate in (("plain kafka_burst process", burst), ("Java ProducerPerformance", java)):
        if rate is not None:
            print(f"  {name}: {rate:>10,.0f} records/s")
    for shape in configs:
        rate = statistics.median(r["records_s"] for r in results[shape])
        mb = statistics.median(r["mb_s"] for r in results[shape])
        per_cpu = statistics.median(r["records_cpu_s"] for r in results[shape])
        versus = "" if burst is None else f"  x{rate / burst:.2f} vs kafka_burst"
        versus += "" if java is None else f"  x{rate / java:.2f} vs Java"
        print(
            f"  {shape[0]} worker(s), {shape[1]:>2} users: {rate:>8,.0f} records/s "
            f"{mb:>5.2f} MB/s {per_cpu:>7,.0f} records/Locust-CPU-s  "
            f"x{rate / base:.2f} vs {first[0]}x{first[1]}{versus}"
        )


if __name__ == "__main__":
    main()
