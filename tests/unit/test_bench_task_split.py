"""bench/task_split.py: the split of a run directory beside Windmill's figures."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "bench" / "task_split.py"
ORIGIN = datetime(2026, 3, 1, 22, 0, tzinfo=UTC).timestamp()
DAG = "windmill_chain_40"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_task_split", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = _load()


def iso(t: float) -> str:
    return datetime.fromtimestamp(ORIGIN + t, UTC).isoformat()


def write_run(path: Path, executor: str) -> Path:
    """Two runs of a 2-task chain: transition 2 + 2 s, assignment 6 + 30 s, execution 2 + 6 s
    in the first; twice that in the second."""
    events: list[dict[str, Any]] = []

    def add(kind: str, t: float, **fields: Any) -> None:
        events.append({"seq": len(events) + 1, "t": t, "wall": ORIGIN + t, "kind": kind, **fields})

    add("run_start", 0, time_compression=1.0, environment={"executor": executor})
    for run_id, scale, base in (("a", 1.0, 0.0), ("b", 2.0, 100.0)):
        add("dag_triggered", base, dag_id=DAG, run_id=run_id, ok=True)
        start = base + 2
        steps = [(2, 6, 2), (2, 30, 6)]
        t = start
        for n, (transition, assignment, execution) in enumerate(steps):
            queued = t + transition * scale
            started = queued + assignment * scale
            t = started + execution * scale
            add(
                "task_try",
                t,
                dag_id=DAG,
                run_id=run_id,
                task_id=f"fibo_{n:02d}",
                map_index=-1,
                try_number=1,
                state="success",
                queued_when=iso(queued),
                start_date=iso(started),
                end_date=iso(t),
            )
        add(
            "dag_run",
            t + 1,
            dag_id=DAG,
            run_id=run_id,
            state="success",
            queued_at=iso(base + 1),
            start_date=iso(start),
            end_date=iso(t + 2),
        )
    add("run_end", 300, status="completed")
    path.mkdir(parents=True)
    (path / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def test_the_table_puts_each_part_beside_windmills(tmp_path: Path) -> None:
    run = write_run(tmp_path / "20261206T230000Z-windmill-chain", "LocalExecutor")
    (column,) = bench.columns([run], DAG)
    assert column.label == "LocalExecutor, 20261206T230000Z-windmill-chain (2 runs)"
    rows = bench.table([column])
    assert rows[0] == [
        "part",
        "Windmill, Airflow 2.7.3",
        "LocalExecutor, 20261206T230000Z-windmill-chain (2 runs) p50",
        "ratio",
    ]
    # p50 (nearest rank) of 2 runs is the first: the path 48 s, the run 50 s.
    assert rows[1] == ["in all (the three parts)", "116.2 s", "48.0 s", "× 0.41"]
    assert rows[2] == ["assignment", "75.1 s (65%)", "36.0 s (75%)", "× 0.48"]
    assert rows[3] == ["execution", "12.5 s (11%)", "8.0 s (17%)", "× 0.64"]
    assert rows[4] == ["transition", "28.6 s (25%)", "4.0 s (8%)", "× 0.14"]
    assert rows[5] == ["run wall time (start → end)", "not published", "50.0 s", ""]


def test_one_column_per_run_directory_and_a_markdown_table(tmp_path: Path) -> None:
    local = write_run(tmp_path / "local", "LocalExecutor")
    celery = write_run(tmp_path / "celery", "CeleryExecutor")
    found = bench.columns([local, celery], DAG)
    assert [c.group.executor for c in found] == ["LocalExecutor", "CeleryExecutor"]
    text = bench.render(bench.table(found), markdown=True)
    lines = text.splitlines()
    assert lines[1] == "|---|---|---|---|---|---|"
    assert lines[3].startswith("| assignment | 75.1 s (65%) | 36.0 s (75%) | × 0.48 |")


def test_the_script_prints_the_table_and_fails_without_the_dag(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", "LocalExecutor")

    def script(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(SCRIPT), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=ROOT,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )

    shown = script(str(run))
    assert shown.returncode == 0, shown.stderr
    assert "assignment" in shown.stdout and "× 0.48" in shown.stdout
    missing = script(str(run), "--dag", "other")
    assert missing.returncode == 1 and "no successful run of other" in missing.stdout
    assert script().returncode == 2  # neither a run directory nor --trigger
