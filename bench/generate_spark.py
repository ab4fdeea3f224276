"""Benchmark: the Spark backend of the generator against the local backend, same config.

    DAGSTORM_STACK_FILE=... .venv/bin/python bench/generate_spark.py          # ~3 min
    .venv/bin/python bench/generate_spark.py --hours 6 --chunks-per-hour 1 2 --out /path

Needs the embedded stack running (`dagstorm stack up`): jobs go to its standalone
master (by default 1 worker with 1 core). In the same run it measures:

- ``local``: ``dagstorm generate --backend local``'s code path (one process, one
  core: this script pins itself with ``os.sched_setaffinity``);
- ``spark, N chunk(s)/hour``: the Spark backend's job through spark-submit, for each
  ``--chunks-per-hour``; wall time from spark-submit to exit, and its parts: the
  session start (JVM driver, context, first executor), stage 1 (replaying the model
  for the carried funnel events), stage 2 (model + encoding + part files), and the
  driver's commit (markers, ledger).

Records/s and MB/s are over the whole wall time and over the work alone (stage 1 +
stage 2 + commit). CPU s is the process CPU time of the local run, and for Spark the
tasks' CPU time in dagstorm's code (summed by the job through accumulators; the JVM's
and the driver's CPU are not in it): on a loaded machine the per-CPU-second figure
is the fair comparison. It checks that both backends wrote the same lines and the same
ledger (a bench of a wrong result is worthless) and prints the load average.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dagstorm.core.progress import Progress
from dagstorm.stack.config import load_stack_config
from dagstorm.stack.embedded.components.spark import spark_env
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import resolve_stack
from dagstorm.workloads.sinks.pregenerate import build_config, generate_local
from dagstorm.workloads.spark_backend.submit import SparkOptions, run_on_spark


def lines_digest(root: Path) -> str:
    """One hash over every partition's part files in name order (same lines, same order)."""
    digest = hashlib.sha256()
    for partition in sorted(root.glob("dt=*/hour=*")):
        digest.update(str(partition.relative_to(root)).encode())
        for part in sorted(partition.glob("part-*")):
            digest.update(part.read_bytes())
    return digest.hexdigest()


def ledger_digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def row(
    name: str, records: int, size: int, wall: float, *, work: float, cpu: float, extra: str
) -> str:
    work_cols = (
        f"{records / work:,.0f} | {size / 1e6 / work:,.1f} | {cpu:.1f} | {records / cpu:,.0f}"
    )
    return (
        f"| {name} | {records:,} | {size / 1e6:,.1f} | {wall:.1f} | {records / wall:,.0f} | "
        f"{size / 1e6 / wall:,.1f} | {work_cols} | {extra} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", default="2TB/day", help="the ad-log rate")
    parser.add_argument("--scale", default="1/1000", help="scale of the rate")
    parser.add_argument("--hours", type=float, default=12.0, help="simulated hours")
    parser.add_argument(
        "--format", default="jsonl", choices=["jsonl", "parquet"], help="landing format"
    )
    parser.add_argument(
        "--chunks-per-hour", type=int, nargs="+", default=[1, 2], help="Spark runs to make"
    )
    parser.add_argument("--out", type=Path, default=None, help="scratch directory")
    parser.add_argument("--cpu", type=int, default=0, help="CPU the local backend runs on")
    args = parser.parse_args()

    stack = load_stack_config()
    ctx = StackContext(config=stack, progress=Progress(quiet=True))
    master = resolve_stack(stack).endpoint("spark")
    scratch = Path(tempfile.mkdtemp(prefix="bench-spark-", dir=args.out))
    source: dict[str, Any] = {
        "seed": 5,
        "rate": args.rate,
        "scale": args.scale,
        "format": args.format,
    }
    duration = args.hours * 3600
    rows: list[str] = []
    digests: dict[str, tuple[str, str]] = {}
    try:
        os.sched_setaffinity(0, {args.cpu})
        config = build_config(source, root=scratch / "local", landing={})
        cpu0 = time.process_time()
        summary = generate_local(config, duration, ledger_dir=scratch / "local-ledger")
        local_cpu = time.process_time() - cpu0
        rows.append(
            row("local backend (1 process, 1 core)", summary.records, summary.bytes,
                summary.wall_s, work=summary.wall_s, cpu=local_cpu,
                extra=f"{summary.partitions} partitions")
        )  # fmt: skip
        digests["local"] = (
            lines_digest(scratch / "local"),
            ledger_digest(scratch / "local-ledger"),
        )
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))  # spark-submit's JVM: unpinned
        for chunks in args.chunks_per_hour:
            name = f"spark-{chunks}"
            config = build_config(source, root=scratch / name, landing={})
            options = SparkOptions(
                master=master,
                spark_home=ctx.spark_home,
                env=spark_env(ctx),
                log_path=scratch / f"{name}.log",
                chunks_per_hour=chunks,
            )
            started = time.monotonic()
            events = run_on_spark(config, duration, options, ledger_dir=scratch / f"{name}-ledger")
            wall = time.monotonic() - started
            done, session = events["done"], events["session"]
            work = done["stage1_s"] + done["stage2_s"] + done["commit_s"]
            cpu = done["stage1_cpu_s"] + done["stage2_cpu_s"]
            extra = (
                f"session {session['seconds']:.1f} s, stage 1 {done['stage1_s']:.1f} s, "
                f"stage 2 {done['stage2_s']:.1f} s, commit {done['commit_s']:.1f} s; task CPU "
                f"stage 1 {done['stage1_cpu_s']:.1f} s, stage 2 {done['stage2_cpu_s']:.1f} s; "
                f"{events['plan']['chunks']} tasks"
            )
            rows.append(
                row(f"spark backend, {chunks} chunk(s)/hour", done["records"], done["bytes"],
                    wall, work=work, cpu=cpu, extra=extra)
            )  # fmt: skip
            digests[name] = (
                lines_digest(scratch / name),
                ledger_digest(scratch / f"{name}-ledger"),
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    same = all(d == digests["local"] for d in digests.values())
    load = os.getloadavg()[0]
    print(f"# {args.rate} x {args.scale}, {args.hours:g} simulated hours, {args.format}; "
          f"master {master}; load average {load:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    print("| backend | records | MB | wall s | records/s | MB/s | records/s (work) | "
          "MB/s (work) | CPU s | records/CPU-s | notes |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for line in rows:
        print(line)
    print(f"same lines and ledger as local: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
