"""The report's Celery tables: cells, hover titles, and the section only with Celery data."""

from __future__ import annotations

import html as html_text
import re
from pathlib import Path

from dagstorm.analysis.outputs.result import analyze
from dagstorm.reports.page import render_report
from dagstorm.reports.sections.celery import (
    FAULT_HEADERS,
    FAULT_TITLES,
    QUEUE_HEADERS,
    QUEUE_TITLES,
    TASK_HEADERS,
    TASK_TITLES,
    celery_tables,
)
from tests.unit.test_analysis_celery import Journal, kill_journal


def cells(html: str, tag: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c) for c in re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", html)]


def test_the_tables_show_queue_workers_and_the_lost_tries(tmp_path: Path) -> None:
    run_dir = kill_journal().write(tmp_path / "run")
    html = str(celery_tables(analyze(run_dir)))
    assert "Queues: default." in html
    assert cells(html, "th") == [*QUEUE_HEADERS, *TASK_HEADERS, *FAULT_HEADERS]
    titles = [html_text.unescape(t) for t in re.findall(r'<th title="([^"]*)">', html)]
    assert titles == [*QUEUE_TITLES, *TASK_TITLES, *FAULT_TITLES]
    assert "share one hostname" in titles[len(QUEUE_TITLES) + len(TASK_TITLES) + 1]
    assert cells(html, "td") == [
        *("whole run", "5", "9", "9", "1 of 2"),
        *("f1 (at 1m40s → 2m30s)", "2", "9", "9", "1"),
        *("f2 (at 3m → 3m30s)", "1", "2", "2", "2"),
        *("w1", "3", "1", "0"),
        *("w2", "4", "4", "1"),
        *("f1", "2", "1", "1m / 1m", "1m10s / 1m10s", "0"),
    ]
    assert '<span class="bad">1</span>' in html  # one try lost


def test_the_page_has_the_section_only_with_celery_data(tmp_path: Path) -> None:
    run_dir = kill_journal().write(tmp_path / "a")
    html = render_report(run_dir, analyze(run_dir))
    assert 'id="celery"' in html and "Celery (the broker" in html
    plain = Journal()
    plain.attempt(90, "t", 1, "success", 10, end=90)
    plain.add(100, "run_end", status="completed")
    other = plain.write(tmp_path / "b")
    assert 'id="celery"' not in render_report(other, analyze(other))
