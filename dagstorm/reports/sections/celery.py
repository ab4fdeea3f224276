"""The report's Celery tables: the broker's queue and the workers, and each worker fault's tries."""

from __future__ import annotations

from dagstorm.analysis.measures.celery import CeleryFaultTries, CeleryMeasure
from dagstorm.analysis.measures.percentiles import Percentiles
from dagstorm.analysis.outputs.result import Result
from dagstorm.core.durations import duration_text
from dagstorm.reports.markup import Child, Markup, el, join
from dagstorm.reports.tables import html_table

__all__ = [
    "FAULT_HEADERS",
    "FAULT_TITLES",
    "QUEUE_HEADERS",
    "QUEUE_TITLES",
    "TASK_HEADERS",
    "TASK_TITLES",
    "celery_tables",
]

QUEUE_HEADERS = ("span", "queue samples", "depth max", "depth p95", "workers alive min")
#: What each column measures (the headers' hover text).
QUEUE_TITLES = (
    "the whole run, or one fault's window (injection start → revert)",
    "LLEN samples of the Celery queues on Redis (one per queue per probe interval)",
    "most messages waiting in a queue: sent by Airflow, not yet taken by a worker",
    "95th percentile of the queue depth samples (nearest rank)",
    "fewest worker processes alive and not stopped (SIGSTOP) in a sample; of the workers"
    " the stack declares",
)
FAULT_HEADERS = (
    "fault",
    "tries running at it",
    "lost",
    "noticed p50 / max",
    "resumed p50 / max",
    "never resumed",
)
FAULT_TITLES = (
    "a celery fault (kill, pause or warm shutdown of one worker)",
    "tries running when its injection began, on any worker: all workers share one hostname,"
    " so a try cannot be tied to the worker hit",
    "of those, tries that ended failed or up_for_retry after the fault",
    "fault → Airflow failed the try (its end_date: the heartbeat check gave up on it)",
    "fault → the next try of the same task started",
    "lost tries whose next try never started in the run",
)


TASK_HEADERS = ("worker", "tasks received", "returned", "raised")
TASK_TITLES = (
    "the Celery worker component",
    "tasks it took from the broker during the run (its log's `Task … received` lines)",
    "tasks that returned (`succeeded` in Celery: the workload ran, whatever the try's state)",
    "tasks that raised in Celery",
)


def _p50_max(p: Percentiles) -> str:
    if p.count == 0:
        return "none"
    return f"{duration_text(p.p50)} / {duration_text(p.max)}"


def _count(value: int | None) -> str:
    return "not measured" if value is None else f"{value:,}"


def _depth_p95(value: float | None) -> str:
    return "not measured" if value is None else f"{value:,.0f}"


def _queue_rows(m: CeleryMeasure) -> list[list[Child]]:
    total = f" of {m.workers_total:,}" if m.workers_total is not None else ""
    alive = _count(m.workers_alive_min)
    rows: list[list[Child]] = [
        [
            "whole run",
            f"{m.samples:,}",
            _count(m.depth_max),
            _depth_p95(m.depth_p95),
            alive + total if m.workers_alive_min is not None else alive,
        ]
    ]
    for w in m.windows:
        span = f"{w.fault} (at {duration_text(w.start_t)} → {duration_text(w.end_t)})"
        rows.append(
            [
                span,
                f"{w.samples:,}",
                _count(w.depth_max),
                _depth_p95(w.depth_p95),
                _count(w.workers_alive_min),
            ]
        )
    return rows


def _fault_row(f: CeleryFaultTries) -> list[Child]:
    return [
        f.fault,
        f"{f.running:,}",
        el("span", f"{f.lost:,}", class_="bad" if f.lost else None),
        _p50_max(f.noticed_s),
        _p50_max(f.resumed_s),
        el("span", f"{f.not_resumed:,}", class_="bad" if f.not_resumed else None),
    ]


def celery_tables(result: Result) -> Markup:
    """Queue and workers (run and fault windows), tasks per worker, celery faults' tries."""
    m = result.measures.celery
    if m is None:
        return Markup("")
    queues = ", ".join(m.queues) or "none sampled"
    parts: list[Child] = [
        el("p", f"Queues: {queues}."),
        html_table(QUEUE_HEADERS, _queue_rows(m), numeric=[1, 2, 3, 4], titles=QUEUE_TITLES),
    ]
    if m.tasks:
        counts: list[list[Child]] = [
            [t.worker, f"{t.received:,}", f"{t.succeeded:,}", f"{t.raised:,}"] for t in m.tasks
        ]
        parts.append(html_table(TASK_HEADERS, counts, numeric=[1, 2, 3], titles=TASK_TITLES))
    if m.faults:
        rows = [_fault_row(f) for f in m.faults]
        parts.append(html_table(FAULT_HEADERS, rows, numeric=[1, 2, 3, 4, 5], titles=FAULT_TITLES))
    return join(parts)
