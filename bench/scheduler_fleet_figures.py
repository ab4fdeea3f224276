"""The figures of bench/scheduler_fleet.py: one run's, the medians per condition, B ÷ A.

Pure functions of a run directory's ``result.json`` and ``journal.jsonl`` and of
task tries read from Airflow's metadata database (``task_instance`` ∪
``task_instance_history``), so they are tested on fakes of all three.

The measured window is the scenario's timeline, ``[started_at, started_at +
duration_s)`` (both from result.json): the storm runs through all of it; the drain
after it is not measured by SQL.

- tries finished / min (SQL): tries that started and ended ``success``, ``failed``
  or ``up_for_retry`` with ``end_date`` in the window, over the window's minutes;
- queued → running (SQL): ``start_date − queued_dttm`` of the tries that started in
  the window, nearest-rank p50 / p95;
- dagstorm's figures (result.json ``measures.throughput``): the median of tries
  finished per busy minute and its queued → running p50 / p95, over the DAGs the
  run's probe watched (the bench DAGs) and the whole run, drain included;
- scheduler loop (journal ``statsd`` events of ``scheduler.scheduler_loop_duration``
  in the window): the median over the StatsD probe's intervals of each interval's
  p50, and of each interval's p95.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dagstorm.analysis.measures.percentiles import Percentiles
from dagstorm.analysis.measures.scheduler.scheduler_metrics import LOOP_DURATION
from dagstorm.analysis.measures.scheduler.throughput import FINISHED, NEVER_RAN
from dagstorm.run.journal import read_journal

BENCH_PREFIX = "scheduler_bench_"
#: What the bench's trigger storms are called: their run ids end ``__storm-N`` (dag_trigger.py).
STORM_PREFIX = "storm-"
#: The two conditions, in the order the summary shows them.
CONDITIONS = {"A": "bench DAGs alone", "B": "fleet deployed"}


def storm_scenario(
    *,
    name: str,
    description: str,
    seed: int,
    storm_prefix: str,
    dags: Sequence[str],
    rate: float,
    max_total: int,
    duration_s: int,
    drain_s: int,
) -> str:
    """A scenario of one trigger storm per bench DAG and no fault (the benches' run).

    Storms are named ``<storm_prefix><index>``, so their run ids end ``__<name>``
    (what a bench's leftover cleanup looks for); the probe watches the bench DAGs only.
    """
    storms = "".join(
        f"  - kind: trigger_storm\n"
        f"    name: {storm_prefix}{index}\n"
        f"    dag: {dag}\n"
        f"    rate: {rate}\n"
        f"    max_total: {max_total}\n"
        f"    duration: {duration_s}s\n"
        for index, dag in enumerate(dags)
    )
    return (
        f"name: {name}\n"
        f"description: {description}\n"
        f"duration: {duration_s}s\n"
        f"seed: {seed}\n"
        "time_compression: 1\n"
        f"workloads:\n{storms}"
        "slos:\n"
        "  - scheduler_throughput: {min: 1}\n"
        "probes:\n"
        f"  airflow_dags: [{', '.join(dags)}]\n"
        f"drain: {drain_s}s\n"
    )


@dataclass(frozen=True)
class TryRow:
    """One task try from Airflow's metadata database."""

    dag_id: str
    state: str | None
    queued: datetime | None
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class Window:
    """The measured wall window of one run."""

    begin: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        """Its length in seconds."""
        return (self.end - self.begin).total_seconds()

    def holds(self, moment: datetime | None) -> bool:
        """True when ``moment`` lies in ``[begin, end)``."""
        return moment is not None and self.begin <= moment < self.end


@dataclass(frozen=True)
class TriesFigures:
    """Tries of some DAGs over a window: finished, per minute, queued → running."""

    finished: int
    per_min: float
    queued_p50_s: float | None
    queued_p95_s: float | None


@dataclass(frozen=True)
class RunFigures:
    """Everything measured of one run of one condition."""

    round: int
    condition: str
    run_dir: str
    status: str
    bench: TriesFigures
    all: TriesFigures
    fleet: TriesFigures
    dagstorm_bench_per_min: float | None
    dagstorm_queued_p50_s: float | None
    dagstorm_queued_p95_s: float | None
    loop_p50_ms: float | None
    loop_p95_ms: float | None
    loop_intervals: int
    #: result.json ``measures.inherited.share``: the tries of runs queued before the start.
    inherited_share: float | None = None


def window_of(result: Mapping[str, Any]) -> Window:
    """The scenario's timeline in wall time, from result.json."""
    begin = datetime.fromisoformat(str(result["run"]["started_at"]).replace("Z", "+00:00"))
    return Window(begin, begin + timedelta(seconds=float(result["scenario"]["duration_s"])))


def tries_figures(
    rows: Iterable[TryRow], window: Window, which: Callable[[str], bool]
) -> TriesFigures:
    """The tries of the DAGs ``which`` accepts, over ``window``."""
    mine = [r for r in rows if which(r.dag_id) and r.state not in NEVER_RAN]
    finished = sum(
        1 for r in mine if r.state in FINISHED and r.start is not None and window.holds(r.end)
    )
    delays = Percentiles.of(
        (r.start - r.queued).total_seconds()
        for r in mine
        if r.start is not None and r.queued is not None and window.holds(r.start)
    )
    minutes = window.seconds / 60.0
    return TriesFigures(
        finished=finished,
        per_min=finished / minutes if minutes > 0 else 0.0,
        queued_p50_s=delays.p50,
        queued_p95_s=delays.p95,
    )


def loop_figures(
    events: Iterable[Mapping[str, Any]], duration_s: float
) -> tuple[float | None, float | None, int]:
    """Median of the loop timer's interval p50s and p95s in ``[0, duration_s]``; intervals."""
    p50s: list[float] = []
    p95s: list[float] = []
    for event in events:
        if (
            event.get("kind") != "statsd"
            or event.get("metric") != LOOP_DURATION
            or event.get("type") != "timer"
            or not 0 <= float(event.get("t", -1)) <= duration_s
        ):
            continue
        if event.get("p50_ms") is not None:
            p50s.append(float(event["p50_ms"]))
        if event.get("p95_ms") is not None:
            p95s.append(float(event["p95_ms"]))
    return _median(p50s), _median(p95s), len(p50s)


def run_figures(
    run_dir: Path,
    rows: Sequence[TryRow],
    *,
    round_no: int,
    condition: str,
    is_fleet: Callable[[str], bool],
) -> RunFigures:
    """The figures of one finished run directory and the tries SQL returned for it."""
    result = json.loads((run_dir / "result.json").read_text())
    window = window_of(result)
    throughput = result.get("measures", {}).get("throughput", {}) or {}
    delays = throughput.get("task_queue_delay_s", {}) or {}
    p50, p95, intervals = loop_figures(
        read_journal(run_dir / "journal.jsonl"), float(result["scenario"]["duration_s"])
    )
    return RunFigures(
        round=round_no,
        condition=condition,
        run_dir=run_dir.name,
        status=str(result.get("run", {}).get("status", "?")),
        bench=tries_figures(rows, window, lambda d: d.startswith(BENCH_PREFIX)),
        all=tries_figures(rows, window, lambda _: True),
        fleet=tries_figures(rows, window, is_fleet),
        dagstorm_bench_per_min=throughput.get("median_finished_per_min"),
        dagstorm_queued_p50_s=delays.get("p50"),
        dagstorm_queued_p95_s=delays.get("p95"),
        loop_p50_ms=p50,
        loop_p95_ms=p95,
        loop_intervals=intervals,
        inherited_share=(result.get("measures", {}).get("inherited") or {}).get("share"),
    )


#: Summary rows: label, how to read the figure off a run, its unit.
FIGURES: tuple[tuple[str, Callable[[RunFigures], float | None], str], ...] = (
    ("bench DAGs: tries finished / min (SQL)", lambda f: f.bench.per_min, "/min"),
    ("bench DAGs: tries finished / min (dagstorm, busy-minute median)",
     lambda f: f.dagstorm_bench_per_min, "/min"),
    ("all DAGs: tries finished / min (SQL)", lambda f: f.all.per_min, "/min"),
    ("fleet DAGs: tries finished / min (SQL)", lambda f: f.fleet.per_min, "/min"),
    ("scheduler loop p50 (StatsD)", lambda f: f.loop_p50_ms, "ms"),
    ("scheduler loop p95 (StatsD)", lambda f: f.loop_p95_ms, "ms"),
    ("bench DAGs: queued → running p50 (SQL)", lambda f: f.bench.queued_p50_s, "s"),
    ("bench DAGs: queued → running p95 (SQL)", lambda f: f.bench.queued_p95_s, "s"),
    ("bench DAGs: queued → running p50 (dagstorm)", lambda f: f.dagstorm_queued_p50_s, "s"),
    ("bench DAGs: queued → running p95 (dagstorm)", lambda f: f.dagstorm_queued_p95_s, "s"),
    ("all DAGs: queued → running p50 (SQL)", lambda f: f.all.queued_p50_s, "s"),
    ("all DAGs: queued → running p95 (SQL)", lambda f: f.all.queued_p95_s, "s"),
)  # fmt: skip


@dataclass(frozen=True)
class SummaryRow:
    """One figure: its median per condition over the rounds, and B ÷ A."""

    label: str
    unit: str
    a: float | None
    b: float | None

    @property
    def ratio(self) -> float | None:
        """B ÷ A; None when either is missing or A is 0."""
        if self.a is None or self.b is None or self.a == 0:
            return None
        return self.b / self.a


def summary(runs: Sequence[RunFigures]) -> list[SummaryRow]:
    """The median over the rounds of every figure, per condition."""
    rows = []
    for label, read, unit in FIGURES:
        medians = {
            c: _median([v for f in runs if f.condition == c and (v := read(f)) is not None])
            for c in CONDITIONS
        }
        rows.append(SummaryRow(label, unit, medians["A"], medians["B"]))
    return rows


def number(value: float | None, unit: str) -> str:
    """A figure with its unit, or n/a."""
    if value is None:
        return "n/a"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.0f} ms"
    return f"{value:.1f}{unit}"


def percent(share: float | None) -> str:
    """A share as ``12.3%`` (``n/a`` when not measured)."""
    return "n/a" if share is None else f"{share * 100:.1f}%"


def ratio_text(value: float | None) -> str:
    """``× 0.83``, or n/a."""
    return "n/a" if value is None else f"× {value:.2f}"


def summary_table(rows: Sequence[SummaryRow], rounds: int) -> list[list[str]]:
    """Header and one line per figure: A, B, B ÷ A."""
    header = [
        "figure",
        f"A: {CONDITIONS['A']} (median of {rounds})",
        f"B: {CONDITIONS['B']} (median of {rounds})",
        "B ÷ A",
    ]
    return [header] + [
        [r.label, number(r.a, r.unit), number(r.b, r.unit), ratio_text(r.ratio)] for r in rows
    ]


def rounds_table(runs: Sequence[RunFigures]) -> list[list[str]]:
    """Header and one line per run, in the order they ran."""
    header = [
        "round", "cond", "run", "status", "bench/min SQL", "bench/min dagstorm", "all/min",
        "fleet/min", "loop p50", "loop p95", "bench q→r p50", "bench q→r p95", "all q→r p95",
        "inherited",
    ]  # fmt: skip
    lines = [header]
    for f in runs:
        lines.append(
            [
                str(f.round),
                f.condition,
                f.run_dir,
                f.status,
                number(f.bench.per_min, ""),
                number(f.dagstorm_bench_per_min, ""),
                number(f.all.per_min, ""),
                number(f.fleet.per_min, ""),
                number(f.loop_p50_ms, "ms"),
                number(f.loop_p95_ms, "ms"),
                number(f.bench.queued_p50_s, "s"),
                number(f.bench.queued_p95_s, "s"),
                number(f.all.queued_p95_s, "s"),
                percent(f.inherited_share),
            ]
        )
    return lines


def paired_ratios(runs: Sequence[RunFigures]) -> dict[int, tuple[float | None, float | None]]:
    """Per round: B ÷ A of the bench DAGs' tries/min (SQL) and of the loop p50."""
    out: dict[int, tuple[float | None, float | None]] = {}
    for round_no in sorted({f.round for f in runs}):
        pair = {f.condition: f for f in runs if f.round == round_no}
        if set(pair) != set(CONDITIONS):
            continue
        a, b = pair["A"], pair["B"]
        out[round_no] = (
            SummaryRow("", "", a.bench.per_min, b.bench.per_min).ratio,
            SummaryRow("", "", a.loop_p50_ms, b.loop_p50_ms).ratio,
        )
    return out


def render(rows: Sequence[Sequence[str]], *, markdown: bool = False) -> str:
    """Fixed-width text, or a Markdown table (first column left, the rest right)."""
    if markdown:
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        lines.insert(1, "|---|" + "|".join("---:" for _ in rows[0][1:]) + "|")
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    )


def as_json(runs: Sequence[RunFigures]) -> str:
    """Every run's figures and the summary, as JSON (``--json``)."""
    body = {
        "runs": [asdict(f) for f in runs],
        "summary": [{**asdict(r), "ratio": r.ratio} for r in summary(runs)],
    }
    return json.dumps(body, indent=2) + "\n"


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None
