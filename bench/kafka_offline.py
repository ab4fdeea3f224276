"""Benchmark, no broker: CPU per stage of dagstorm's Kafka producer path.

    dagstorm bench kafka-offline --records 2000000
    dagstorm bench kafka-offline --records 2000000 --records 20000000 \\
        --compare ../main --runs 3        # this checkout vs another, alternating

Runs the ``kafka_burst`` workload itself (generation, JSON values, record-batch
layout and join, compression, ledger counts, delivery tracking) against a null
producer that closes each batch as kafka-python's sender does (header + CRC-32C)
and acknowledges it at once: everything dagstorm's process does per record except
the sender's network I/O. The broker is left out, so the figures say what the
producer side costs per record; the real-stack figure is ``dagstorm bench kafka``.

Per stage it prints CPU seconds (exclusive: a stage's time excludes the stages it
calls) and MB/s of message values per CPU second of that stage; the total is the
process's CPU time over the run. The stages are found by wrapping functions of
the workload's modules (those present in the checkout measured), so the same
script measures an older checkout too (``--compare DIR`` runs each checkout in its
own process, alternately, ``--runs`` times each, and prints medians).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: (module, attribute path, stage) wrapped when present.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("dagstorm.workloads.source", "EventSource.batches", "generate events"),
    ("dagstorm.workloads.kafka.messages", "MessageEncoder.values", "JSON values"),
    ("dagstorm.workloads.kafka.messages", "MessageEncoder.value_column", "JSON values"),
    ("dagstorm.workloads.kafka.records", "layout", "batch layout (varints)"),
    ("dagstorm.workloads.kafka.records", "record_metas", "batch layout (varints)"),
    ("dagstorm.workloads.kafka.records", "layout_sizes", "batch layout (varints)"),
    ("dagstorm.workloads.kafka.records", "records_section", "records section join"),
    ("dagstorm.workloads.kafka.records", "join_records", "records section join"),
    ("dagstorm.workloads.kafka.records", "build_batches", "batch cut + order"),
    ("dagstorm.workloads.kafka.record_batch", "PrebuiltRecords.__init__", "compress"),
    ("dagstorm.workloads.kafka.record_batch", "PrebuiltRecords.close", "header + CRC"),
    ("dagstorm.workloads.sinks.ledger", "LedgerWriter.count", "ledger counts"),
    ("dagstorm.workloads.kafka.delivery", "DeliveryTracker.track", "delivery tracking"),
    ("dagstorm.workloads.kafka.delivery", "DeliveryTracker._acked", "delivery tracking"),
)


class StageClock:
    """Exclusive CPU time per stage of nested, wrapped calls (one thread)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._stack: list[list[Any]] = []  # [stage, started, time in callees]

    def enter(self, stage: str) -> None:
        self._stack.append([stage, time.thread_time(), 0.0])

    def leave(self) -> None:
        stage, started, inner = self._stack.pop()
        took = time.thread_time() - started
        self.spent[stage] = self.spent.get(stage, 0.0) + took - inner
        if self._stack:
            self._stack[-1][2] += took

    def wrap(self, fn: Callable[..., Any], stage: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.enter(stage)
            try:
                return fn(*args, **kwargs)
            finally:
                self.leave()

        return timed

    def wrap_generator(self, fn: Callable[..., Any], stage: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            gen = fn(*args, **kwargs)
            while True:
                self.enter(stage)
                try:
                    item = next(gen)
                except StopIteration:
                    return
                finally:
                    self.leave()
                yield item

        return timed


def install(clock: StageClock) -> list[str]:
    """Wrap every stage function present; the stages found."""
    import importlib  # noqa: PLC0415
    import inspect  # noqa: PLC0415

    found = []
    for module_name, path, stage in STAGES:
        owner: Any = importlib.import_module(module_name)
        *outer, name = path.split(".")
        for part in outer:
            owner = getattr(owner, part, None)
        fn = getattr(owner, name, None) if owner is not None else None
        if fn is None:
            continue
        wrapped = (
            clock.wrap_generator(fn, stage)
            if inspect.isgeneratorfunction(fn)
            else clock.wrap(fn, stage)
        )
        setattr(owner, name, wrapped)
        # modules that imported the function by name call their own reference
        for other in list(sys.modules.values()):
            if (
                other is not None
                and getattr(other, "__name__", "").startswith("dagstorm.")
                and (getattr(other, name, None) is fn)
            ):
                setattr(other, name, wrapped)
        found.append(stage)
    return found


class NullProducer:
    """Takes whole batches, closes them as kafka-python's sender does, acks them at once."""

    def __init__(self, partitions: int) -> None:
        self.n_partitions = partitions
        self.next_offset = dict.fromkeys(range(partitions), 0)
        self.wire_bytes = 0
        self.batches = 0
        self._pending: list[tuple[int, int, Any]] = []

    def partitions_for(self, topic: str) -> set[int]:
        return set(range(self.n_partitions))

    def send(self, topic: str, value: bytes, key: bytes | None = None) -> Any:
        raise AssertionError("no control topic in this bench")

    def enqueue(self, topic: str, partition: int, records: Any) -> Any:
        from kafka.producer.future import FutureProduceResult  # noqa: PLC0415
        from kafka.structs import TopicPartition  # noqa: PLC0415

        records.close()
        self.wire_bytes += len(records.buffer())
        self.batches += 1
        produce = FutureProduceResult(TopicPartition(topic, partition))
        self._pending.append((partition, records.next_offset(), produce))
        return produce

    def wakeup(self) -> None:
        # acknowledge what was queued (the sender thread would, a little later)
        pending, self._pending = self._pending, []
        for partition, count, produce in pending:
            base = self.next_offset[partition]
            self.next_offset[partition] += count
            produce.success((base, -1, None))

    def flush(self, timeout: float | None = None) -> None:
        self.wakeup()

    def close(self, timeout: float | None = None) -> None:
        self.wakeup()


def run_once(records: int, compression: str, batch_size: int, stages: bool) -> dict[str, Any]:
    """One workload run of ``records`` against the null producer; figures as a dict."""
    from dagstorm.run.clock import WallClock  # noqa: PLC0415
    from dagstorm.run.journal import RunJournal  # noqa: PLC0415
    from dagstorm.workloads.kafka.burst import KafkaBurst  # noqa: PLC0415
    from dagstorm.workloads.kafka.config import KafkaBurstConfig  # noqa: PLC0415

    clock_stages = StageClock()
    found = install(clock_stages) if stages else []
    cfg = KafkaBurstConfig.model_validate(
        {
            "rate": "100M events/s",
            "topic": "bench",
            "control_topic": None,
            "max_records": records,
            "seed": 7,
            "producer": {"batch_size": batch_size, "compression": compression},
        }
    )
    producer = NullProducer(3)
    with tempfile.TemporaryDirectory(prefix="dagstorm-kafka-offline-") as tmp:
        clock = WallClock(1.0)
        journal = RunJournal(Path(tmp) / "journal.jsonl", clock)
        workload = KafkaBurst(
            "offline",
            journal,
            clock,
            config=cfg,
            producer_factory=lambda: producer,
            ledger_dir=Path(tmp) / "ledger",
            run_tag="offline",
        )
        cpu0, wall0 = time.process_time(), time.perf_counter()
        workload.run()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        journal.close()
        value_bytes = 0
        for line in (Path(tmp) / "journal.jsonl").read_bytes().splitlines():
            event = json.loads(line)
            if event.get("kind") == "workload_stats":
                value_bytes += int(event["bytes"])
    totals = workload.totals
    if workload.error is not None or totals["acked"] != records:
        raise SystemExit(f"incomplete run: {totals} {workload.error!r}")
    return {
        "records": records,
        "value_bytes": value_bytes,
        "wire_bytes": producer.wire_bytes,
        "batches": producer.batches,
        "cpu": cpu,
        "wall": wall,
        "stages": clock_stages.spent,
        "found": found,
    }


def print_run(label: str, result: dict[str, Any]) -> None:
    mb = result["value_bytes"] / 1e6
    print(
        f"{label}: {result['records']:,} records, {mb:,.0f} MB of values, "
        f"{result['wire_bytes'] / 1e6:,.0f} MB on the wire ({result['batches']:,} batches); "
        f"CPU {result['cpu']:.2f} s ({mb / result['cpu']:.1f} MB/CPU-s, "
        f"{result['cpu'] / result['records'] * 1e6:.2f} CPU-µs/record), wall {result['wall']:.2f} s"
    )
    spent = result["stages"]
    if spent:
        other = result["cpu"] - sum(spent.values())
        for stage, seconds in [*sorted(spent.items(), key=lambda kv: -kv[1]), ("rest", other)]:
            rate = f"{mb / seconds:9.1f}" if seconds > 0 else f"{'-':>9}"
            print(f"    {stage:26} {seconds:7.2f} CPU-s {rate} MB/CPU-s")


def child(args: argparse.Namespace) -> None:
    """Run once in this process and print the figures as one JSON line."""
    result = run_once(args.records[0], args.compression, args.batch_size, args.stages)
    print(json.dumps(result))


def compare(args: argparse.Namespace) -> None:
    """Alternate this checkout and ``--compare`` in fresh processes; print medians."""
    here = Path(__file__).resolve().parent.parent
    trees = {"this": here, "other": Path(args.compare).resolve()}
    for records in args.records:
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
        for run in range(args.runs):
            for name, tree in trees.items():
                argv = [sys.executable, str(Path(__file__).resolve()), "--json"]
                argv += ["--records", str(records), "--compression", args.compression]
                argv += ["--batch-size", str(args.batch_size)]
                argv += [] if args.stages else ["--no-stages"]
                env = {**os.environ, "PYTHONPATH": str(tree)}
                done = subprocess.run(
                    argv, env=env, capture_output=True, text=True, timeout=1800, check=False
                )
                if done.returncode != 0:
                    raise SystemExit(f"{name} ({tree}) failed: {done.stderr[-3000:]}")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                results[name].append(result)
                print_run(f"[{records:,} run {run + 1}] {name} ({tree})", result)
        print(f"\nmedians over {args.runs} runs of {records:,} records ({args.compression}):")
        med = {
            name: {k: statistics.median(r[k] for r in rs) for k in ("cpu", "wall", "wire_bytes")}
            for name, rs in results.items()
        }
        for name, m in med.items():
            mb = results[name][0]["value_bytes"] / 1e6
            print(
                f"  {name:6} {trees[name]}: CPU {m['cpu']:.2f} s ({mb / m['cpu']:.1f} MB/CPU-s),"
                f" wall {m['wall']:.2f} s, wire {m['wire_bytes'] / 1e6:,.0f} MB"
            )
        print(f"  CPU this/other: {med['this']['cpu'] / med['other']['cpu']:.3f}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--records", type=int, action="append", help="records per run (repeatable; 2000000)"
    )
    parser.add_argument(
        "--compression", choices=["none", "gzip", "lz4", "zstd"], default="lz4", help="codec"
    )
    parser.add_argument("--batch-size", type=int, default=256 * 1024, help="batch bytes")
    parser.add_argument(
        "--no-stages", dest="stages", action="store_false", help="total CPU only (no wrapping)"
    )
    parser.add_argument("--compare", metavar="DIR", help="another checkout to alternate with")
    parser.add_argument("--runs", type=int, default=3, help="runs of each checkout (--compare)")
    parser.add_argument(
        "--json", action="store_true", help="print one run's figures as one JSON line (--compare)"
    )
    args = parser.parse_args()
    args.records = args.records or [2_000_000]
    if args.json:
        child(args)
    elif args.compare:
        compare(args)
    else:
        for records in args.records:
            print_run(
                f"[{records:,}]", run_once(records, args.compression, args.batch_size, args.stages)
            )


if __name__ == "__main__":
    main()
