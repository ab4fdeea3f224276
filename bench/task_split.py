"""A DAG's run time split (assignment, execution, transition) beside Windmill's Airflow figures.

Windmill benchmarked Airflow 2.7.3 (its docker-compose) on a chain of 40 Python
tasks, each computing fibo(10): 116.2 s in all, of which assignment (queued →
running) 75.1 s (65%), execution 12.5 s and transition (previous task's end →
queued) 28.6 s. dagstorm measures the same split for any DAG from the task tries
of a run (docs/measures.md, ``task_split``); this prints, for each run directory
and executor, the p50 per run of each part, its share, and the ratio to
Windmill's figure (``× 0.50``: half Windmill's time).

Usage:
  .venv/bin/python bench/task_split.py RUN_DIR [RUN_DIR ...] [--dag DAG] [--markdown]
  .venv/bin/python bench/task_split.py --trigger       # runs scenarios/windmill-chain.yaml first

``--trigger`` needs a running stack (`dagstorm stack up`): it runs the scenario
(10 runs of ``windmill_chain_40``, one at a time) and then reads its run directory.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dagstorm.analysis.measures.compute import runs_in_scope
from dagstorm.analysis.measures.scheduler.task_split import PARTS, TaskSplitGroup, task_split
from dagstorm.analysis.rundata.load import load_run

ROOT = Path(__file__).resolve().parents[1]
DAG = "windmill_chain_40"
SCENARIO = ROOT / "scenarios" / "windmill-chain.yaml"
#: Windmill's published split for Airflow 2.7.3 (the 40-task chain), seconds.
WINDMILL = {"total": 116.2, "assignment": 75.1, "execution": 12.5, "transition": 28.6}
WINDMILL_LABEL = "Windmill, Airflow 2.7.3"
#: Bound on a triggered scenario: its 1 min timeline plus at most 40 min of drain.
TRIGGER_TIMEOUT_S = 60 * 60


@dataclass(frozen=True)
class Column:
    """The split of one run directory's runs on one executor."""

    label: str
    group: TaskSplitGroup


def columns(run_dirs: Sequence[Path], dag: str) -> list[Column]:
    """One column per (run directory, executor) with a split run of ``dag``."""
    found: list[Column] = []
    for run_dir in run_dirs:
        data = load_run(run_dir)
        split = task_split(
            runs_in_scope(data.dag_runs), data.task_tries, executor=data.scenario.executor
        )
        for group in split.for_dag(dag):
            if group.runs:
                label = f"{group.executor}, {Path(run_dir).name} ({group.runs} runs)"
                found.append(Column(label, group))
    return found


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} s"


def _share(value: float | None) -> str:
    return "" if value is None else f" ({value * 100:.0f}%)"


def _ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or not theirs:
        return "n/a"
    return f"× {ours / theirs:.2f}"


def table(found: Sequence[Column]) -> list[list[str]]:
    """Header and rows: part, Windmill's figure, then each column's p50 and its ratio."""
    header = ["part", WINDMILL_LABEL]
    for column in found:
        header += [f"{column.label} p50", "ratio"]
    total = WINDMILL["total"]
    rows = [header]
    line = ["in all (the three parts)", _seconds(total)]
    for column in found:
        ours = column.group.path_s.p50
        line += [_seconds(ours), _ratio(ours, total)]
    rows.append(line)
    for name in PARTS:
        theirs = WINDMILL[name]
        line = [name, _seconds(theirs) + _share(theirs / total)]
        for column in found:
            part = next(p for p in column.group.parts if p.name == name)
            ours = part.per_run_s.p50
            line += [_seconds(ours) + _share(part.share), _ratio(ours, theirs)]
        rows.append(line)
    line = ["run wall time (start → end)", "not published"]
    for column in found:
        line += [_seconds(column.group.run_wall_s.p50), ""]
    rows.append(line)
    return rows


def render(rows: Sequence[Sequence[str]], *, markdown: bool = False) -> str:
    """Fixed-width text, or a Markdown table."""
    if markdown:
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        lines.insert(1, "|" + "|".join("---" for _ in rows[0]) + "|")
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def line(row: Sequence[str]) -> str:
        cells = zip(row, widths, strict=True)
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(cells))

    return "\n".join(line(r) for r in rows)


def trigger(scenario: Path, runs_dir: Path) -> Path:
    """Run ``scenario`` with dagstorm (bounded) and return the run directory it made."""
    started = time.time()
    command = [sys.executable, "-m", "dagstorm", "run", str(scenario), "--runs-dir", str(runs_dir)]
    print("running:", " ".join(command), flush=True)
    done = subprocess.run(command, timeout=TRIGGER_TIMEOUT_S, check=False)
    made = [
        p
        for p in runs_dir.glob("*")
        if p.is_dir() and (p / "journal.jsonl").is_file() and p.stat().st_mtime >= started
    ]
    if not made:
        raise SystemExit(f"dagstorm run exited {done.returncode} and made no run directory")
    return max(made, key=lambda p: p.stat().st_mtime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="*", type=Path, help="run directories to read")
    parser.add_argument("--dag", default=DAG, help=f"the DAG to split (default {DAG})")
    parser.add_argument(
        "--trigger", action="store_true", help="run the scenario first (needs a running stack)"
    )
    parser.add_argument("--scenario", type=Path, default=SCENARIO, help="with --trigger")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"), help="with --trigger")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    run_dirs = list(args.run_dirs)
    if args.trigger:
        run_dirs.append(trigger(args.scenario, args.runs_dir))
    if not run_dirs:
        parser.error("give a run directory, or --trigger")
    found = columns(run_dirs, args.dag)
    if not found:
        print(f"no successful run of {args.dag} in {', '.join(map(str, run_dirs))}")
        return 1
    print(f"{args.dag}: p50 per run (wall seconds), share of the path time, ratio to Windmill")
    print(render(table(found), markdown=args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
