"""The harmless Spark application the JVM rows of fault_timings.py aim at (spark-submit it).

Rounds of a small RDD job, one after another, until ``--seconds`` have passed:
each maps its partitions through a Python function (so executors run Python
workers, which ``python_oom`` needs), sleeping a little in each task, then
shuffles (``reduceByKey``: executors fetch shuffle blocks, where the ``exception``
row throws). A round that fails — a fault made its tasks or its executor die —
is counted and the next one starts: the application outlives every fault, and
ends by itself. Usage (the name comes from spark-submit's ``--name``)::

    spark-submit --name dagstorm-bench-jvm-PID jvm_target_job.py --seconds 180
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Sequence

from pyspark.sql import SparkSession

#: Seconds after ``--seconds`` the process ends even if a round hangs.
GRACE_S = 30.0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The job's options."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=180.0, help="run rounds this long")
    parser.add_argument("--partitions", type=int, default=4, help="tasks of a round")
    parser.add_argument("--task-ms", type=int, default=500, help="sleep in each task")
    parser.add_argument("--master", default=None, help="master URL (default: spark-submit's)")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 600:
        parser.error("--seconds must be in (0, 600]")
    if not 1 <= args.partitions <= 64:
        parser.error("--partitions must be in [1, 64]")
    if not 0 <= args.task_ms <= 10_000:
        parser.error("--task-ms must be in [0, 10000]")
    return args


def _slow_square(x: int, task_ms: int) -> tuple[int, int]:
    """A task's per-record work, in the Python worker: a short sleep, a key."""
    time.sleep(task_ms / 1000.0)
    return x % 2, x * x


def main(argv: Sequence[str] | None = None) -> None:
    """Run rounds until the deadline; print one line per round."""
    args = parse_args(argv)
    builder = SparkSession.builder
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    sc = spark.sparkContext
    # A hung round (no executor left) cannot keep the application past its deadline.
    watchdog = threading.Timer(args.seconds + GRACE_S, lambda: os._exit(3))
    watchdog.daemon = True
    watchdog.start()
    deadline = time.monotonic() + args.seconds
    task_ms = args.task_ms
    rounds = failed = 0
    print(f"target {sc.applicationId} running for {args.seconds:.0f} s", flush=True)
    while time.monotonic() < deadline:
        rounds += 1
        try:
            sums = (
                sc.parallelize(range(args.partitions * 4), args.partitions)
                .map(lambda x: _slow_square(x, task_ms))
                .reduceByKey(lambda a, b: a + b)
                .collect()
            )
            print(f"round {rounds} ok {sorted(sums)}", flush=True)
        except Exception as exc:  # noqa: BLE001 - a fault's doing: count it, start the next round
            failed += 1
            print(f"round {rounds} failed: {str(exc).splitlines()[0][:200]}", flush=True)
            time.sleep(1.0)
    print(f"target done: {rounds} rounds, {failed} failed", flush=True)
    spark.stop()
    watchdog.cancel()


if __name__ == "__main__":
    main()
