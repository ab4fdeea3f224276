"""The PySpark program of the Spark backend (run by spark-submit; see :mod:`submit`).

    spark-submit --master URL --py-files dagstorm.zip job.py --config config.json
        --duration 21600 --chunks-per-hour 4 --ledger DIR

The driver plans the run, runs stage 1 (what each chunk's funnel leaves due
later, shuffled to the chunk it lands in) and stage 2 (each chunk writes its part
files), then commits markers and ledger (:mod:`commit`). Progress goes to stdout
as lines ``DAGSTORM_PROGRESS {json}`` (``session``, ``plan``, ``stage``,
``partition``, ``done``; stage events carry the tasks' CPU seconds in dagstorm's
code, summed through accumulators), which ``dagstorm generate`` relays. Only spark-submit
runs this module (it imports pyspark); nothing in dagstorm imports it.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson
from pyspark import SparkConf, SparkContext, StorageLevel

from dagstorm.workloads.config import GeneratorConfig
from dagstorm.workloads.spark_backend.commit import clear_planned, commit_run
from dagstorm.workloads.spark_backend.plan import ChunkTask, plan_generation
from dagstorm.workloads.spark_backend.tasks import CarryOver, ChunkResult, carry_out, write_chunk

PROGRESS = "DAGSTORM_PROGRESS "
JOB_GROUP = "dagstorm-generate"


def emit(event: str, **fields: Any) -> None:
    """One progress line on stdout."""
    sys.stdout.write(PROGRESS + orjson.dumps({"event": event, **fields}).decode() + "\n")
    sys.stdout.flush()


class StageReporter:
    """Polls Spark's status tracker and emits task progress of running stages."""

    def __init__(self, sc: SparkContext, interval: float = 2.0) -> None:
        self.sc = sc
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
        self._last: dict[int, int] = {}

    def __enter__(self) -> StageReporter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        tracker = self.sc.statusTracker()
        while not self._stop.wait(self.interval):
            for stage_id in tracker.getActiveStageIds():
                info = tracker.getStageInfo(stage_id)
                if info is None or self._last.get(stage_id) == info.numCompletedTasks:
                    continue
                self._last[stage_id] = info.numCompletedTasks
                emit(
                    "stage",
                    stage=info.name.split(" at ")[0],
                    done=info.numCompletedTasks,
                    total=info.numTasks,
                )


def run(
    sc: SparkContext,
    config: GeneratorConfig,
    *,
    duration_s: float,
    chunks_per_hour: int,
    ledger_dir: Path,
) -> None:
    """Plan, both stages, commit; progress on stdout."""
    started = time.monotonic()
    plan = plan_generation(config, duration_s, chunks_per_hour=chunks_per_hour)
    emit(
        "plan",
        chunks=len(plan.chunks),
        hours=len(plan.hours),
        windows=sum(len(c.windows) for c in plan.chunks),
        impressions=plan.expected_rows,
        seconds=round(time.monotonic() - started, 3),
    )
    if not plan.chunks:
        commit_run(config, plan, [], ledger_dir=ledger_dir)
        emit(
            "done",
            partitions=0,
            records=0,
            bytes=0,
            files=0,
            stage1_s=0.0,
            stage2_s=0.0,
            commit_s=0.0,
        )
        return
    clear_planned(config, plan)  # before any task writes a slice of a partition
    n = len(plan.chunks)
    bounds = plan.bounds
    tasks = sc.parallelize([(c.index, c) for c in plan.chunks], n)

    # CPU seconds the tasks spent in dagstorm's code (Python workers, summed over tasks).
    cpu1, cpu2 = sc.accumulator(0.0), sc.accumulator(0.0)

    def stage1(item: tuple[int, ChunkTask]) -> list[tuple[int, CarryOver]]:
        started = time.process_time()
        out = carry_out(config, item[1], bounds)
        cpu1.add(time.process_time() - started)
        return out

    def stage2(item: tuple[int, tuple[Any, Any]]) -> ChunkResult:
        started = time.process_time()
        chunk_tasks, carried = item[1]
        result = write_chunk(config, next(iter(chunk_tasks)), list(carried))
        cpu2.add(time.process_time() - started)
        return result

    t1 = time.monotonic()
    sc.setJobGroup(JOB_GROUP, "stage 1: carried funnel events")
    carried = tasks.flatMap(stage1).partitionBy(n).persist(StorageLevel.MEMORY_AND_DISK)
    carried_rows = carried.map(lambda kv: len(kv[1].events)).sum()
    t2 = time.monotonic()
    emit("stage1", seconds=round(t2 - t1, 3), cpu_s=round(cpu1.value, 3), carried=int(carried_rows))
    sc.setJobGroup(JOB_GROUP, "stage 2: write part files")
    results: list[ChunkResult] = tasks.cogroup(carried, numPartitions=n).map(stage2).collect()
    carried.unpersist()
    t3 = time.monotonic()
    emit("stage2", seconds=round(t3 - t2, 3), cpu_s=round(cpu2.value, 3), tasks=len(results))

    def on_partition(marker: dict[str, Any]) -> None:
        emit(
            "partition",
            partition=marker["partition"],
            records=marker["records"],
            files=len(marker["files"]),
        )

    done = commit_run(config, plan, results, ledger_dir=ledger_dir, on_partition=on_partition)
    emit(
        "done",
        partitions=done.partitions,
        records=done.records,
        bytes=done.bytes,
        files=done.files,
        stage1_s=round(t2 - t1, 3),
        stage2_s=round(t3 - t2, 3),
        commit_s=round(time.monotonic() - t3, 3),
        stage1_cpu_s=round(cpu1.value, 3),
        stage2_cpu_s=round(cpu2.value, 3),
    )


def main(argv: list[str] | None = None) -> int:
    """spark-submit entry point."""
    parser = argparse.ArgumentParser(prog="dagstorm-generate-spark")
    parser.add_argument("--config", type=Path, required=True, help="GeneratorConfig as JSON")
    parser.add_argument("--duration", type=float, required=True, help="simulated seconds")
    parser.add_argument("--chunks-per-hour", type=int, default=1)
    parser.add_argument("--ledger", type=Path, required=True)
    args = parser.parse_args(argv)
    config = GeneratorConfig.model_validate_json(args.config.read_bytes())

    started = time.monotonic()
    conf = SparkConf().setAppName(f"dagstorm-generate seed={config.seed}")
    conf.set("spark.speculation", "false")  # two attempts of a task would share temp names
    sc = SparkContext(conf=conf)
    try:
        context_s = time.monotonic() - started
        sc.parallelize([0], 1).count()  # waits for an executor: the session is usable
        emit(
            "session",
            seconds=round(time.monotonic() - started, 3),
            context_s=round(context_s, 3),
            master=sc.master,
            parallelism=sc.defaultParallelism,
        )
        with StageReporter(sc):
            run(
                sc,
                config,
                duration_s=args.duration,
                chunks_per_hour=args.chunks_per_hour,
                ledger_dir=args.ledger,
            )
    finally:
        sc.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
