"""Benchmark: dagstorm's Kafka producer against Kafka's own ProducerPerformance tool.

    DAGSTORM_STACK_FILE=... .venv/bin/python bench/kafka_producer.py            # needs `stack up`
    .venv/bin/python bench/kafka_producer.py --records 300000 --compression zstd
    .venv/bin/python bench/kafka_producer.py --profile     # where dagstorm's time goes
    .venv/bin/python bench/kafka_producer.py --records 20000000 --rounds 3 --skip-plain \
        --goal-ratio 0.8                                    # long sustained, 3 paired rounds
    .venv/bin/python bench/kafka_producer.py --encode-workers 0,1   # encoding beside the sender

Same broker (the stack's), same messages (dagstorm's JSON records, written to a
payload file the Java tool sends with ``--payload-file``), same count, same
producer settings (acks=all, idempotence, batch size, linger, compression), in
the same run, each into a fresh 3-partition topic:

- ``kafka ProducerPerformance (java)``: ``org.apache.kafka.tools.ProducerPerformance``
  from the stack's Kafka jars, on the broker's java, ``--throughput -1``;
- ``dagstorm kafka_burst``: the workload end to end (generate, encode, build
  record batches from columns, hand them to kafka-python's sender, delivery
  tracking, ledger), unthrottled, one process; timed to the last ack. With
  ``--encode-workers 0,1,...`` one such contender per value of
  ``producer.encode_workers`` (worker processes encoding beside the sender; their
  CPU counts too);
- ``kafka-python send loop``: the same pre-built messages sent in a bare loop of
  kafka-python's per-record ``send()`` (no generation, no tracking) — the
  ceiling of that API, and what dagstorm's producer used before it built batches.

Every contender's topic must then hold exactly the records sent (broker end
offsets), or the bench exits non-zero; the topics are deleted after each round.

``--rounds N`` repeats the comparison N times, Java first in odd rounds and
dagstorm first in even ones (so neither always gets the fresher broker; an even N
balances it), and prints each round's ratio and their median: one round on a noisy
2-core machine is an anecdote. The goals are judged on the medians.

MB/s are of message values (10^6 bytes) per wall second; the ratio is against the
Java tool measured in this run. On a busy machine the per-CPU-second figures are
the fairer ones (the Java figure counts the whole JVM: start-up and JIT too).
Goals: >= 23.1 MB/s (2 TB/day) and >= 0.5x Java.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from kafka.admin import NewTopic

from dagstorm.clients.kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from dagstorm.run.clock import WallClock
from dagstorm.run.journal import RunJournal
from dagstorm.stack.config import load_stack_config
from dagstorm.stack.embedded.context import find_java_home
from dagstorm.stack.endpoints import resolve_stack
from dagstorm.workloads.kafka.burst import KafkaBurst
from dagstorm.workloads.kafka.config import KafkaBurstConfig
from dagstorm.workloads.kafka.messages import MessageEncoder
from dagstorm.workloads.kafka.producer import make_producer
from dagstorm.workloads.source import EventSource

GOAL_MB_S, GOAL_RATIO = 23.1, 0.5
_JAVA_LINE = re.compile(r"^(\d+) records sent, ([\d.]+) records/sec")


@dataclass
class Result:
    name: str
    records: int
    bytes: int
    wall: float
    cpu: float | None

    @property
    def mb_s(self) -> float:
        return self.bytes / self.wall / 1e6

    @property
    def records_s(self) -> float:
        return self.records / self.wall


#: Topics this run created (deleted at the end: a big run writes gigabytes).
CREATED: list[str] = []
#: Partitions of each fresh topic (bench/kafka_locust.py sets its own).
PARTITIONS = 3


def fresh_topic(bootstrap: str, prefix: str) -> str:
    topic = f"bench-{prefix}-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    try:
        admin.create_topics([NewTopic(topic, PARTITIONS, 1)], timeout_ms=30_000)
    finally:
        admin.close()
    CREATED.append(topic)
    return topic


def end_offsets(bootstrap: str, topic: str) -> int:
    """Records in ``topic`` (the sum of its partitions' end offsets)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return int(sum(consumer.end_offsets(parts).values()))
    finally:
        consumer.close()


def delete_topics(bootstrap: str) -> None:
    """Delete the topics this run created (best effort: a failure is printed)."""
    if not CREATED:
        return
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    try:
        admin.delete_topics(list(CREATED), timeout_ms=30_000)
        CREATED.clear()
    except Exception as exc:  # noqa: BLE001 - leftover topics are reported, not fatal
        print(f"  could not delete the bench topics {CREATED}: {exc!r}")
    finally:
        admin.close()


def config(args: argparse.Namespace, topic: str, encode_workers: int = 0) -> KafkaBurstConfig:
    return KafkaBurstConfig.model_validate(
        {
            "rate": "100M events/s",  # never the limit: the producer is
            "topic": topic,
            "control_topic": None,
            "max_records": args.records,
            "seed": 7,
            "producer": {
                "batch_size": args.batch_size,
                "linger_ms": args.linger_ms,
                "compression": args.compression,
                "encode_workers": encode_workers,
            },
        }
    )


def sample_messages(n: int) -> list[bytes]:
    """The first ``n`` records of the workload's source (what every contender sends)."""
    source = EventSource(KafkaBurstConfig.model_validate({"seed": 7, "rate": "100M events/s"}))
    encoder = MessageEncoder(source.model.catalog, 3)
    out: list[bytes] = []
    for _window, events in source.batches(3600.0):
        values, _ = encoder.values(events)
        out.extend(values)
        if len(out) >= n:
            break
    return out[:n]


def run_java(args: argparse.Namespace, bootstrap: str, payload: Path, size: float) -> Result:
    stack_config = load_stack_config()
    libs = stack_config.resolved_state_dir() / "kafka" / "libs"
    java = find_java_home() / "bin" / "java"
    topic = fresh_topic(bootstrap, "java")
    compression = "none" if args.compression == "none" else args.compression
    argv = [
        str(java),
        "-Xmx512m",
        "-cp",
        f"{libs}/*",
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        str(args.records),
        "--payload-file",
        str(payload),
        "--throughput",
        "-1",
        "--producer-props",
        f"bootstrap.servers={bootstrap}",
        "acks=all",
        "enable.idempotence=true",
        f"batch.size={args.batch_size}",
        f"linger.ms={args.linger_ms}",
        f"compression.type={compression}",
    ]
    started, children = time.monotonic(), _children_cpu()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
    wall, cpu = time.monotonic() - started, _children_cpu() - children
    summary = [line for line in done.stdout.splitlines() if _JAVA_LINE.match(line)]
    if done.returncode != 0 or not summary:
        sys.exit(f"ProducerPerformance failed ({done.returncode}): {done.stderr[-2000:]}")
    match = _JAVA_LINE.match(summary[-1])
    assert match is not None
    records, per_s = int(match.group(1)), float(match.group(2))
    check_topic(bootstrap, topic, records, "java")
    # The tool's own clock (first send to last ack) excludes JVM start; use it.
    tool_wall = records / per_s
    print(f"  java: {summary[-1].strip()}  (process wall {wall:.1f} s)")
    # CPU: the whole JVM (start-up and JIT included), so its per-CPU figure is a floor.
    return Result("kafka ProducerPerformance (java)", records, int(records * size), tool_wall, cpu)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_dagstorm(
    args: argparse.Namespace, bootstrap: str, work: Path, encode_workers: int = 0
) -> Result:
    topic = fresh_topic(bootstrap, "dagstorm")
    cfg = config(args, topic, encode_workers)
    clock = WallClock(1.0)
    run_dir = work / topic
    run_dir.mkdir()
    journal = RunJournal(run_dir / "journal.jsonl", clock)
    workload = KafkaBurst(
        "bench",
        journal,
        clock,
        config=cfg,
        producer_factory=lambda: make_producer(cfg, bootstrap),
        ledger_dir=run_dir / "ledger",
        run_tag="bench",
    )
    profile = cProfile.Profile() if args.profile else None
    cpu0, children0, started = time.process_time(), _children_cpu(), time.monotonic()
    if profile is not None:
        profile.enable()
    workload.run()  # in this thread: profiled, and ends at the bound after the last ack
    if profile is not None:
        profile.disable()
    # The encode workers were joined when the workload closed its pool: their CPU counts.
    wall = time.monotonic() - started
    cpu = time.process_time() - cpu0 + _children_cpu() - children0
    journal.close()
    totals = workload.totals
    if workload.error is not None or totals["acked"] != args.records:
        sys.exit(f"dagstorm run incomplete: {totals} {workload.error!r}")
    stats = _stats(run_dir / "journal.jsonl")
    sizes = [e["bytes"] for e in stats]
    check_topic(bootstrap, topic, args.records, "dagstorm")
    if profile is not None:
        print("\n  where dagstorm's time goes (cumulative, top 25):")
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    print_sustained(stats, sum(sizes) / max(1, totals["acked"]))
    name = "dagstorm kafka_burst" + (f", {encode_workers} encoder(s)" if encode_workers else "")
    return Result(name, totals["acked"], sum(sizes), wall, cpu)


def check_topic(bootstrap: str, topic: str, expected: int, who: str) -> None:
    """Exit unless the broker holds exactly ``expected`` records in ``topic``."""
    held = end_offsets(bootstrap, topic)
    if held != expected:
        sys.exit(f"{who}: the broker holds {held} records in {topic}, expected {expected}")


def print_sustained(stats: list[dict[str, int]], mean_size: float) -> None:
    """Acked MB/s per full stats interval (the first and last, partial, left out)."""
    full = [e for e in stats[1:-1] if e.get("interval_s", 0) >= 0.9]
    if len(full) < 3:
        print("  dagstorm per second: run too short for per-second figures (use more --records)")
        return
    rates = sorted(e["acked"] * mean_size / e["interval_s"] / 1e6 for e in full)
    low, p10, mid = rates[0], rates[len(rates) // 10], rates[len(rates) // 2]
    print(
        f"  dagstorm acked MB/s over {len(rates)} full seconds: "
        f"min {low:.1f}, p10 {p10:.1f}, median {mid:.1f} "
        f"(2 TB/day = {GOAL_MB_S}; sustained means the min stays above it)"
    )


def _stats(journal: Path) -> list[dict[str, int]]:
    import orjson  # noqa: PLC0415

    return [
        e
        for e in map(orjson.loads, journal.read_bytes().splitlines())
        if e.get("kind") == "workload_stats"
    ]


def run_plain(args: argparse.Namespace, bootstrap: str, messages: list[bytes]) -> Result:
    topic = fresh_topic(bootstrap, "plain")
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        **config(args, topic).producer.kafka_kwargs(),
    )
    try:
        producer.partitions_for(topic)
        cpu0, started = time.process_time(), time.monotonic()
        send = producer.send
        count = 0
        while count < args.records:
            for value in messages[: args.records - count]:
                send(topic, value, None, None, count % 3)
                count += 1
        producer.flush(timeout=300)
        wall, cpu = time.monotonic() - started, time.process_time() - cpu0
    finally:
        producer.close(timeout=10)
    check_topic(bootstrap, topic, count, "kafka-python")
    size = sum(map(len, messages)) / len(messages)
    return Result("kafka-python send loop", count, int(count * size), wall, cpu)


def parse_args() -> argparse.Namespace:
    """The bench's options; ``encode_workers`` parsed into a list of ints."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=500_000, help="records per contender")
    parser.add_argument("--batch-size", type=int, default=256 * 1024, help="batch bytes")
    parser.add_argument("--linger-ms", type=int, default=20, help="producer linger")
    parser.add_argument(
        "--compression", choices=["none", "gzip", "lz4", "zstd"], default="lz4", help="codec"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the dagstorm run")
    parser.add_argument(
        "--skip-plain", action="store_true", help="skip the kafka-python send() loop"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="paired rounds (order alternates); median ratio"
    )
    parser.add_argument(
        "--goal-ratio", type=float, default=GOAL_RATIO, help="the goal against java (x)"
    )
    parser.add_argument(
        "--encode-workers",
        default="0",
        help="dagstorm contenders: producer.encode_workers values, comma-separated (0,1)",
    )
    args = parser.parse_args()
    if args.rounds < 1 or args.rounds > 20:
        parser.error("--rounds: 1 to 20")
    try:
        workers = [int(w) for w in str(args.encode_workers).split(",")]
    except ValueError:
        workers = []
    if not workers or any(w < 0 or w > 8 for w in workers) or len(set(workers)) < len(workers):
        parser.error("--encode-workers: distinct integers 0-8, comma-separated (e.g. 0,1)")
    args.encode_workers = workers
    return args


def one_round(
    args: argparse.Namespace, round_: int, bootstrap: str, work: Path, messages: list[bytes]
) -> tuple[Result, dict[int, Result]]:
    """Java and each dagstorm contender once (Java first in odd rounds, last in even ones)."""
    size = sum(map(len, messages)) / len(messages)
    payload = work / "payload.jsonl"
    workers: list[int] = args.encode_workers
    ours: dict[int, Result] = {}
    try:
        if round_ % 2:
            java = run_java(args, bootstrap, payload, size)
            for w in workers:
                ours[w] = run_dagstorm(args, bootstrap, work, w)
        else:
            for w in reversed(workers):
                ours[w] = run_dagstorm(args, bootstrap, work, w)
            java = run_java(args, bootstrap, payload, size)
        results = [java, *(ours[w] for w in workers)]
        if not args.skip_plain:
            results.append(run_plain(args, bootstrap, messages))
    finally:
        delete_topics(bootstrap)
    print_table(results)
    return java, ours


def main() -> None:
    args = parse_args()
    workers: list[int] = args.encode_workers
    bootstrap = resolve_stack(load_stack_config()).endpoint("kafka")
    messages = sample_messages(min(args.records, 100_000))
    size = sum(map(len, messages)) / len(messages)
    print(
        f"{args.records} records of {size:.0f} bytes (mean), {args.compression}, "
        f"batch {args.batch_size} B, linger {args.linger_ms} ms, acks=all, idempotent"
    )
    ratios: dict[int, list[float]] = {w: [] for w in workers}
    ours_mb_s: dict[int, list[float]] = {w: [] for w in workers}
    with tempfile.TemporaryDirectory(prefix="dagstorm-bench-kafka-") as tmp:
        work = Path(tmp)
        (work / "payload.jsonl").write_bytes(b"\n".join(messages) + b"\n")
        for round_ in range(1, args.rounds + 1):
            if args.rounds > 1:
                print(f"\n-- round {round_} of {args.rounds}")
            java, ours = one_round(args, round_, bootstrap, work, messages)
            for w in workers:
                ratios[w].append(ours[w].mb_s / java.mb_s)
                ours_mb_s[w].append(ours[w].mb_s)
    for w in workers:
        label = "dagstorm" + (f" ({w} encode workers)" if w else "")
        print_goals(args, label, ratios[w], ours_mb_s[w])


def print_goals(
    args: argparse.Namespace, label: str, ratios: list[float], mb_s_runs: list[float]
) -> None:
    """One contender's rounds against Java, and the goals judged on their medians."""
    if args.rounds > 1:
        listed = ", ".join(f"{r:.2f}x" for r in ratios)
        print(
            f"\n{label} vs java over {args.rounds} rounds: {listed}; "
            f"median {statistics.median(ratios):.2f}x (min {min(ratios):.2f}x)"
        )
    ratio, mb_s = statistics.median(ratios), statistics.median(mb_s_runs)
    median = " (medians)" if args.rounds > 1 else ""
    print(
        f"\n{label} goals{median}: >= {GOAL_MB_S} MB/s:"
        f" {'met' if mb_s >= GOAL_MB_S else 'NOT met'} ({mb_s:.1f}); >= {args.goal_ratio}x"
        f" java: {'met' if ratio >= args.goal_ratio else 'NOT met'} ({ratio:.2f}x)"
    )


def print_table(results: list[Result]) -> None:
    """One round's contenders, in MB/s and per CPU second, against the Java tool."""
    java = results[0]
    head = f"{'contender':36} {'records/s':>11} {'MB/s':>8} {'vs java':>8}"
    print(f"\n{head} {'CPU s':>7} {'MB/CPU-s':>9} {'vs java':>8}")
    java_per_cpu = java.bytes / java.cpu / 1e6 if java.cpu else None
    for r in results:
        per_cpu = r.bytes / r.cpu / 1e6 if r.cpu else None
        cpu_cols = f"{'-':>7} {'-':>9} {'-':>8}"
        if per_cpu is not None and java_per_cpu is not None and r.cpu is not None:
            cpu_cols = f"{r.cpu:7.1f} {per_cpu:9.1f} {per_cpu / java_per_cpu:7.2f}x"
        wall = f"{r.records_s:11,.0f} {r.mb_s:8.1f} {r.mb_s / java.mb_s:7.2f}x"
        print(f"{r.name:36} {wall} {cpu_cols}")


if __name__ == "__main__":
    main()
