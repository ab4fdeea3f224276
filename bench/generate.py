"""Benchmark: ad-log generation on ONE core, against Faker and the 2 TB/day line.

    .venv/bin/python bench/generate.py            # ~1 minute, prints a table
    .venv/bin/python bench/generate.py --seconds 4 --faker-seconds 5   # quicker
    .venv/bin/python bench/generate.py --skew 0.6   # with key skew (60% on one campaign)

The process pins itself to one CPU (``os.sched_setaffinity``; ``--cpu``) and to one
Arrow thread before doing anything. It measures, in the same run:

- ``dagstorm jsonl, in memory``: model + ledger counts + JSON-lines encoding, no I/O;
- ``dagstorm jsonl -> landing``: the full generator writing hourly partitions
  (part files of 128 MiB, fsync + page-cache drop, ``_SUCCESS``, ledger) under ``--out``;
- ``dagstorm parquet -> landing``: the same with Parquet (snappy) part files;
- ``disk ceiling``: the same bytes written the same way with no generation at all;
- ``Faker + json.dumps``: a per-record loop producing the same 15 fields, written as
  JSON lines — what a hand-written generator looks like (``--faker-seconds``).

Each line reports records/s and MB/s per wall second and per CPU second
(``time.process_time``; on a busy machine the CPU figure is the fair one), and
ratios to Faker and to the 2 TB/day line (23.1 MB/s). Parquet's MB/s is of the
compressed files; its "JSON-equivalent" MB/s is records/s x mean JSON-line size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pyarrow as pa
from faker import Faker

from dagstorm.workloads.config import Format, GeneratorConfig, LandingConfig
from dagstorm.workloads.encoding.jsonl import JsonlEncoder, mean_record_bytes
from dagstorm.workloads.model.admodel import AdLogModel
from dagstorm.workloads.model.config import AdModelConfig, KeySkewConfig
from dagstorm.workloads.model.schedule import Schedule
from dagstorm.workloads.sinks.generator import AdLogGenerator
from dagstorm.workloads.sinks.ledger import LedgerWriter
from dagstorm.workloads.traffic.rates import parse_rate

TWO_TB_PER_DAY = 2e12 / 86_400  # bytes per second
GOAL_MB_S, GOAL_RECORDS_S, GOAL_VS_FAKER = 231.0, 1e6, 40.0


@dataclass
class Result:
    name: str
    records: int
    bytes: int
    wall: float
    cpu: float
    json_bytes_per_record: float | None = None

    def rate(self, amount: float, seconds: float) -> float:
        return amount / seconds if seconds > 0 else float("nan")


def pin(cpu: int) -> str:
    os.sched_setaffinity(0, {cpu})
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    return f"pinned to CPU {sorted(os.sched_getaffinity(0))} (of {os.cpu_count()}), 1 Arrow thread"


def timed(fn: Callable[[], tuple[int, int]]) -> tuple[int, int, float, float]:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    records, size = fn()
    return records, size, time.perf_counter() - wall0, time.process_time() - cpu0


def bench_memory(
    seconds: float, out: Path, skew: KeySkewConfig | None = None
) -> tuple[Result, dict[str, float], bytes]:
    """Model + ledger counting + JSON-lines encoding, no file I/O; CPU per stage."""
    model = AdLogModel(AdModelConfig(), seed=1, skew=skew, start_ms=1_767_571_200_000)
    encoder = JsonlEncoder(model.catalog)
    ledger = LedgerWriter(out / "memory-ledger", model.catalog, info={})  # counts only
    windows = Schedule(events_per_second=5e6, start_ms=1_767_571_200_000).windows()
    stages = dict.fromkeys(("model (events, funnel, ids)", "ledger counts", "JSON encoding"), 0.0)
    sample = bytearray()

    def run() -> tuple[int, int]:
        records = size = 0
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            window = next(windows)
            t0 = time.process_time()
            events = model.generate(window).events
            t1 = time.process_time()
            ledger.count(window.hour_ms, events)
            t2 = time.process_time()
            data = encoder.encode(events)
            t3 = time.process_time()
            for name, spent in zip(stages, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                stages[name] += spent
            if len(sample) < 64 << 20:
                sample.extend(data)
            size += len(data)
            records += len(events)
        for name in stages:
            stages[name] /= records
        return records, size

    return Result("dagstorm jsonl, in memory", *timed(run)), stages, bytes(sample)


def bench_disk(seconds: float, out: Path, data: bytes) -> Result:
    """The filesystem's own ceiling: write ready-made JSON lines like the landing writer."""
    part_bytes = 128 << 20
    directory = out / "disk"
    directory.mkdir()

    def run() -> tuple[int, int]:
        size = seq = 0
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            tmp, final = directory / f".part-{seq:05d}.tmp", directory / f"part-{seq:05d}.jsonl"
            with tmp.open("wb") as f:
                while f.tell() < part_bytes and time.perf_counter() < deadline:
                    f.write(data)
                f.flush()
                os.fsync(f.fileno())
                os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)  # as the landing does
                size += f.tell()
            os.replace(tmp, final)
            seq += 1
        return int(size / (len(data) / data.count(b"\n"))), size

    result = Result("disk ceiling (no generation)", *timed(run))
    shutil.rmtree(directory, ignore_errors=True)
    return result


def bench_landing(fmt: str, seconds: float, out: Path, skew: KeySkewConfig | None = None) -> Result:
    """The generator writing partitions, part files, markers and the ledger."""

    root = out / fmt
    config = GeneratorConfig(
        seed=1,
        rate=parse_rate("5M events/s"),
        skew=skew,
        landing=LandingConfig(root=root / "landing", format=cast(Format, fmt)),
    )
    generator = AdLogGenerator(config, ledger_dir=root / "ledger")

    def run() -> tuple[int, int]:
        sim = 0.0
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            sim += 0.2
            generator.advance_to(sim)
        generator.close()
        files = [p for p in (root / "landing").rglob(f"part-*.{fmt}")]
        return generator.records, sum(p.stat().st_size for p in files)

    result = Result(f"dagstorm {fmt} -> landing", *timed(run))
    if fmt == "parquet":
        result.json_bytes_per_record = mean_record_bytes(AdModelConfig())
    shutil.rmtree(root, ignore_errors=True)
    return result


def bench_faker(seconds: float, out: Path) -> Result:
    """A per-record Faker loop producing the same fields, as JSON lines."""
    fake = Faker()
    Faker.seed(1)
    random.seed(1)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    path = out / "faker.jsonl"
    KINDS = OrderedDict(impression=0.995, click=0.0045, conversion=0.0005)

    def record() -> dict[str, object]:
        kind = fake.random_element(KINDS)
        return {
            "event_id": fake.hexify("^" * 16),
            "event_time": fake.date_time_between(start, start + timedelta(hours=1), UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "campaign_id": fake.random_int(1_000_000, 9_999_999),
            "ad_id": fake.random_int(100_000_000, 999_999_999),
            "pricing_model": fake.random_element(("cpm", "cpc")),
            "user_id": fake.hexify("^" * 16),
            "impression_id": fake.hexify("^" * 16),
            "geo": fake.country_code(),
            "spend": round(random.lognormvariate(-6.5, 0.6), 6),
            "event_type": kind,
            "device": fake.random_element(("mobile", "desktop", "tablet", "ctv")),
            "os": fake.random_element(("android", "ios", "windows", "macos", "linux")),
            "placement": fake.random_element(("feed", "banner", "video", "search", "native")),
            "bid_price": round(random.lognormvariate(0.9, 0.5), 2),
            "schema_version": 1,
        }

    def run() -> tuple[int, int]:
        records = 0
        deadline = time.perf_counter() + seconds
        with path.open("w") as f:
            while time.perf_counter() < deadline:
                for _ in range(500):
                    f.write(json.dumps(record(), separators=(",", ":")) + "\n")
                records += 500
        return records, path.stat().st_size

    result = Result("Faker + json.dumps -> file", *timed(run))
    path.unlink()
    return result


def report(results: list[Result], faker: Result) -> list[str]:
    header = (
        f"{'method':30} {'records/s':>12} {'MB/s':>8} {'rec/CPU-s':>12} {'MB/CPU-s':>9}"
        f" {'x Faker':>8} {'x 2TB/day':>10}"
    )
    lines = [header, "-" * len(header)]
    faker_rate = faker.rate(faker.records, faker.cpu)
    for r in [*results, faker]:
        mb, mb_cpu = r.rate(r.bytes, r.wall) / 1e6, r.rate(r.bytes, r.cpu) / 1e6
        line_bytes = r.bytes / max(1, r.records)
        json_mb = r.rate(r.records, r.cpu) * (r.json_bytes_per_record or line_bytes) / 1e6
        lines.append(
            f"{r.name:30} {r.rate(r.records, r.wall):12,.0f} {mb:8.1f} "
            f"{r.rate(r.records, r.cpu):12,.0f} {mb_cpu:9.1f} "
            f"{r.rate(r.records, r.cpu) / faker_rate:8.1f} {json_mb * 1e6 / TWO_TB_PER_DAY:10.1f}"
        )
        if r.json_bytes_per_record:
            lines.append(f"{'':30} (JSON-equivalent {json_mb:.1f} MB per CPU-second)")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per dagstorm measurement")
    parser.add_argument("--faker-seconds", type=float, default=12.0, help="Faker measurement")
    parser.add_argument("--cpu", type=int, default=0, help="the CPU to pin to")
    parser.add_argument("--out", type=Path, default=None, help="scratch dir (default: a temp dir)")
    parser.add_argument(
        "--skew",
        type=float,
        default=None,
        help="generate with key skew: this hot_share of impressions on one campaign_id",
    )
    args = parser.parse_args()
    skew = None if args.skew is None else KeySkewConfig(hot_share=args.skew)
    print(pin(args.cpu))
    out = args.out or Path(tempfile.mkdtemp(prefix="dagstorm-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"scratch: {out}  python {sys.version.split()[0]}  load {os.getloadavg()[0]:.2f}")
    try:
        memory, stages, sample = bench_memory(args.seconds, out, skew)
        results = [
            memory,
            bench_landing("jsonl", args.seconds, out, skew),
            bench_landing("parquet", args.seconds, out, skew),
            bench_disk(args.seconds, out, sample),
        ]
        faker = bench_faker(args.faker_seconds, out)
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    print("\n".join(report(results, faker)))
    print("\nwhere the CPU goes (in memory, ns per record):")
    for name, per_record in stages.items():
        print(f"  {name:30} {per_record * 1e9:6.0f}")
    landing, disk = results[1], results[3]
    mb = landing.rate(landing.bytes, landing.cpu) / 1e6
    rec = landing.rate(landing.records, landing.cpu)
    vs = rec / faker.rate(faker.records, faker.cpu)
    print(
        f"\njsonl -> landing per CPU-second: {mb:.0f} MB/s (goal >= {GOAL_MB_S:.0f}), "
        f"{rec / 1e6:.2f} M records/s (goal >= 1), {vs:.0f}x Faker (goal >= {GOAL_VS_FAKER:.0f}), "
        f"{mb * 1e6 / TWO_TB_PER_DAY:.1f}x the 2 TB/day line; wall: "
        f"{landing.rate(landing.bytes, landing.wall) / 1e6:.0f} MB/s vs the disk's own "
        f"{disk.rate(disk.bytes, disk.wall) / 1e6:.0f} MB/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
