"""The figures of bench/executor_ceiling.py: conditions, their order, medians, ratios vs local.

Pure functions, tested on fakes. One run's figures are bench/scheduler_fleet_figures.py's
(``run_figures``: the tries finished per minute counted in Airflow's metadata database
over the storm's window, queued → running, dagstorm's own result.json throughput,
the scheduler loop); this module adds the executor conditions, the order they run in,
the median per condition over the rounds and each condition's ratio to LocalExecutor.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from scheduler_fleet_figures import RunFigures, number, ratio_text

#: The most Celery workers a condition may ask for (the stack config's own bound).
MAX_WORKERS = 16
LOCAL = "local"


@dataclass(frozen=True)
class Condition:
    """One executor setting the bench measures: LocalExecutor, or Celery with N workers."""

    executor: Literal["local", "celery"]
    workers: int = 0

    @property
    def label(self) -> str:
        """``local`` or ``celery-N``: how tables and progress lines name it."""
        return LOCAL if self.executor == "local" else f"celery-{self.workers}"

    def slots(self, parallelism: int, concurrency: int) -> int:
        """Task slots: Airflow's parallelism caps both; Celery also workers × concurrency."""
        if self.executor == "local":
            return parallelism
        return min(parallelism, self.workers * concurrency)


def parse_condition(text: str) -> Condition:
    """``local`` or ``celery:N`` (1 ≤ N ≤ 16); ValueError otherwise."""
    word = text.strip().lower()
    if word == "local":
        return Condition("local")
    kind, _, count = word.partition(":")
    if kind == "celery" and count.isdigit() and 1 <= int(count) <= MAX_WORKERS:
        return Condition("celery", int(count))
    raise ValueError(f"{text!r}: a condition is `local` or `celery:N` with N from 1 to 16")


def parse_conditions(text: str) -> tuple[Condition, ...]:
    """A comma-separated list of distinct conditions, at least one."""
    conditions = tuple(parse_condition(part) for part in text.split(",") if part.strip())
    if not conditions:
        raise ValueError("name at least one condition, e.g. local,celery:1,celery:2")
    if len(set(conditions)) != len(conditions):
        raise ValueError("each condition may be named once")
    return conditions


def plan(conditions: Sequence[Condition], rounds: int) -> list[tuple[int, Condition]]:
    """(round, condition) in running order: as given in odd rounds, reversed in even ones.

    L C1 C2, C2 C1 L, L C1 C2, …: slow drift of the machine spreads over every
    condition, and a round starts with the condition the one before ended with (one
    stack restart fewer per round).
    """
    steps: list[tuple[int, Condition]] = []
    for round_no in range(1, rounds + 1):
        order = conditions if round_no % 2 else tuple(reversed(conditions))
        steps += [(round_no, c) for c in order]
    return steps


def switches(steps: Sequence[tuple[int, Condition]]) -> int:
    """How many stack restarts ``steps`` need (a change of condition between two runs)."""
    return sum(1 for i, (_, c) in enumerate(steps) if i == 0 or steps[i - 1][1] != c)


#: Summary rows: label, how to read the figure off a run, its unit.
FIGURES: tuple[tuple[str, Callable[[RunFigures], float | None], str], ...] = (
    ("ceiling: bench tries finished / min (SQL)", lambda f: f.bench.per_min, "/min"),
    ("all DAGs: tries finished / min (SQL)", lambda f: f.all.per_min, "/min"),
    ("bench tries finished / min (dagstorm result.json, busy-minute median)",
     lambda f: f.dagstorm_bench_per_min, "/min"),
    ("bench queued → running p50 (SQL)", lambda f: f.bench.queued_p50_s, "s"),
    ("bench queued → running p95 (SQL)", lambda f: f.bench.queued_p95_s, "s"),
    ("bench queued → running p50 (dagstorm)", lambda f: f.dagstorm_queued_p50_s, "s"),
    ("bench queued → running p95 (dagstorm)", lambda f: f.dagstorm_queued_p95_s, "s"),
    ("scheduler loop p50 (StatsD)", lambda f: f.loop_p50_ms, "ms"),
    ("scheduler loop p95 (StatsD)", lambda f: f.loop_p95_ms, "ms"),
)  # fmt: skip


@dataclass(frozen=True)
class SummaryRow:
    """One figure: its median over the rounds per condition (by label, in order)."""

    label: str
    unit: str
    medians: dict[str, float | None]

    def ratio(self, condition: str) -> float | None:
        """This condition's median ÷ local's; None when either is missing or local's is 0."""
        base = self.medians.get(LOCAL)
        value = self.medians.get(condition)
        if base is None or value is None or base == 0:
            return None
        return value / base


def median(values: Sequence[float]) -> float | None:
    """The median, or None of nothing."""
    return float(statistics.median(values)) if values else None


def summary(runs: Sequence[RunFigures], labels: Sequence[str]) -> list[SummaryRow]:
    """The median over the rounds of every figure, per condition."""
    return [
        SummaryRow(
            label,
            unit,
            {
                c: median([v for f in runs if f.condition == c and (v := read(f)) is not None])
                for c in labels
            },
        )
        for label, read, unit in FIGURES
    ]


def summary_table(rows: Sequence[SummaryRow], labels: Sequence[str]) -> list[list[str]]:
    """Header and one line per figure: each condition's median, then each ÷ local."""
    others = [c for c in labels if c != LOCAL] if LOCAL in labels else []
    header = ["figure", *labels, *(f"{c} ÷ local" for c in others)]
    return [header] + [
        [
            r.label,
            *(number(r.medians.get(c), r.unit) for c in labels),
            *(ratio_text(r.ratio(c)) for c in others),
        ]
        for r in rows
    ]


def rounds_table(runs: Sequence[RunFigures]) -> list[list[str]]:
    """Header and one line per run, in the order they ran."""
    header = [
        "round", "condition", "run", "status", "bench/min SQL", "all/min SQL",
        "bench/min dagstorm", "q→r p50", "q→r p95", "loop p50",
    ]  # fmt: skip
    return [header] + [
        [
            str(f.round),
            f.condition,
            f.run_dir,
            f.status,
            number(f.bench.per_min, ""),
            number(f.all.per_min, ""),
            number(f.dagstorm_bench_per_min, ""),
            number(f.bench.queued_p50_s, "s"),
            number(f.bench.queued_p95_s, "s"),
            number(f.loop_p50_ms, "ms"),
        ]
        for f in runs
    ]


def as_json(runs: Sequence[RunFigures], labels: Sequence[str], settings: dict[str, object]) -> str:
    """The settings, every run's figures and the summary with ratios, as JSON (``--json``)."""

    def run_dict(f: RunFigures) -> dict[str, object]:
        body = asdict(f)
        body.pop("fleet", None)  # the fleet bench's column: no fleet here
        return body

    body = {
        "settings": settings,
        "runs": [run_dict(f) for f in runs],
        "summary": [
            {
                "figure": r.label,
                "unit": r.unit,
                "medians": r.medians,
                "ratio_vs_local": {c: r.ratio(c) for c in labels if c != LOCAL},
            }
            for r in summary(runs, labels)
        ],
    }
    return json.dumps(body, indent=2) + "\n"


__all__ = [
    "FIGURES",
    "LOCAL",
    "Condition",
    "SummaryRow",
    "as_json",
    "median",
    "parse_condition",
    "parse_conditions",
    "plan",
    "rounds_table",
    "summary",
    "summary_table",
    "switches",
]
