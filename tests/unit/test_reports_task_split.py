"""The report's task split table: its cells, hover titles and place on the page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dagstorm.analysis.outputs.result import analyze
from dagstorm.reports.page import render_report
from dagstorm.reports.sections.task_split import HEADERS, TITLES, task_split_table
from dagstorm.run.rundir import RunDirectory

ORIGIN = datetime(2026, 3, 1, 22, 0, tzinfo=UTC).timestamp()
DAG = "windmill_chain_40"


def iso(t: float) -> str:
    return datetime.fromtimestamp(ORIGIN + t, UTC).isoformat()


def write_run(tmp_path: Path, *, with_runs: bool = True) -> Path:
    """A run directory: two 2-task chain runs (one failed) on LocalExecutor."""
    events: list[dict[str, Any]] = []

    def add(kind: str, t: float, **fields: Any) -> None:
        events.append({"seq": len(events) + 1, "t": t, "wall": ORIGIN + t, "kind": kind, **fields})

    add("run_start", 0, time_compression=1.0, environment={"executor": "LocalExecutor"})
    runs = {"ok": "success", "broken": "failed"} if with_runs else {}
    for run_id, state in runs.items():
        add("dag_triggered", 1, dag_id=DAG, run_id=run_id, ok=True)
        for n, (queued, start, end) in enumerate([(4, 10, 12), (14, 44, 50)]):
            add(
                "task_try",
                end,
                dag_id=DAG,
                run_id=run_id,
                task_id=f"fibo_{n:02d}",
                map_index=-1,
                try_number=1,
                state=state if n else "success",
                queued_when=iso(queued),
                start_date=iso(start),
                end_date=iso(end),
            )
        add(
            "dag_run",
            51,
            dag_id=DAG,
            run_id=run_id,
            state=state,
            queued_at=iso(1),
            start_date=iso(2),
            end_date=iso(52),
        )
    add("run_end", 60, status="completed")
    run = RunDirectory(tmp_path / "run")
    run.path.mkdir(parents=True)
    run.journal.write_text("".join(json.dumps(e) + "\n" for e in events))
    return run.path


def cells(html: str, tag: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c) for c in re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", html)]


def test_the_table_shows_the_split_with_hover_titles(tmp_path: Path) -> None:
    html = str(task_split_table(analyze(write_run(tmp_path))))
    assert cells(html, "th") == list(HEADERS)
    titles = re.findall(r'<th title="([^"]*)">', html)
    assert len(titles) == len(HEADERS) == len(TITLES)
    assert "queued → running" in titles[4]
    # ok: transition 2 + 2, assignment 6 + 30, execution 2 + 6 → path 48 s of a 50 s run.
    assert cells(html, "td") == [
        DAG,
        "LocalExecutor",
        "1 (1 left out)",
        "50s",
        "36s (75.0%)",
        "8s (16.7%)",
        "4s (8.3%)",
        "2 of 2",
    ]


def test_the_page_has_the_section_only_with_a_split_run(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "a")
    html = render_report(run_dir, analyze(run_dir))
    assert 'id="task-split"' in html and "Windmill" in html
    empty = write_run(tmp_path / "b", with_runs=False)
    assert 'id="task-split"' not in render_report(empty, analyze(empty))
