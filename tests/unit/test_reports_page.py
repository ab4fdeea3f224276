"""report.html from the real smoke run directory and the hand-built broker outage."""

from __future__ import annotations

import re
import shutil
from html import unescape
from pathlib import Path

import orjson
import pytest

from dagstorm.analysis import analyze, write_result
from dagstorm.reports import REPORT_FILE, render_report, write_report

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SMOKE = FIXTURES / "report_runs" / "20261124T041804Z-smoke"
BROKER_OUTAGE = FIXTURES / "journals" / "broker_outage"


@pytest.fixture
def smoke(tmp_path: Path) -> Path:
    target = tmp_path / SMOKE.name
    shutil.copytree(SMOKE, target)
    return target


@pytest.fixture
def broker_outage(tmp_path: Path) -> Path:
    target = tmp_path / "20260301T220000Z-broker-outage-fixture"
    shutil.copytree(BROKER_OUTAGE, target)
    return target


def _text(html: str) -> str:
    """The page's text without tags (what a reader sees), whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_smoke_report_summary_matches_result_json(smoke: Path) -> None:
    result = analyze(smoke)
    write_result(smoke, result)
    document = orjson.loads((smoke / "result.json").read_bytes())
    html = render_report(smoke, result)
    text = _text(html)
    assert "FAIL" in text
    assert f"{document['verdict']['score']:g}/100" in text
    assert document["story"].replace("&", "&amp;") in html
    for slo in document["slos"]:
        assert slo["name"] in text
        assert slo["value_text"] in text
    # exact numbers in the tables: 24,601 expected, none loaded
    total = document["measures"]["completeness"]["total"]
    assert f"{total['expected']:,}" in text
    assert f"{total['lost']:,}" in text
    for miss in document["measures"]["sla"][0]["misses"]:
        assert miss["run_id"] in text


def test_smoke_report_draws_charts_and_says_what_is_not_measured(smoke: Path) -> None:
    html = render_report(smoke, analyze(smoke))
    assert html.count("<svg") >= 5  # traffic ×2, run durations, CPU, RSS
    assert 'class="fault"' in html  # the fault window is shaded
    assert 'class="threshold"' in html  # the SLA line
    text = _text(html)
    assert "not measured: no task_try events in the journal" in text
    assert "not measured: no spark_executor_lost event in the journal" in text
    for component in ("kafka", "airflow-scheduler", "postgres"):
        assert component in text
    assert "version" in text and "3.3.2" in text  # component versions


def test_environment_block_has_the_scenario_and_seed(smoke: Path) -> None:
    text = _text(render_report(smoke, analyze(smoke)))
    assert "slow-serving-db" in text
    assert "rate: 2TB/day" in text
    assert re.search(r"seed 42\b", text)
    assert "x86_64" in text


def test_extrapolation_is_labelled(smoke: Path) -> None:
    text = _text(render_report(smoke, analyze(smoke)))
    assert "Extrapolated" in text
    assert "TB/day" in text


def test_broker_outage_charts_tries_and_throughput(broker_outage: Path) -> None:
    html = render_report(broker_outage, analyze(broker_outage))
    text = _text(html)
    assert "Task tries and retries per minute" in text
    assert "not measured: no task_try events" not in text
    assert "Scheduler throughput" in text
    assert "kafka broker kill" in text
    assert "manual__2026-03-02T00" in text  # the late run, over by 2m sim
    assert "2m" in text


def test_same_input_same_bytes(smoke: Path) -> None:
    first = write_report(smoke, analyze(smoke)).read_bytes()
    second = write_report(smoke, analyze(smoke)).read_bytes()
    assert first == second
    assert (smoke / REPORT_FILE).is_file()


def test_no_external_resources(smoke: Path, broker_outage: Path) -> None:
    for run_dir in (smoke, broker_outage):
        html = render_report(run_dir, analyze(run_dir))
        assert "http://" not in html and "https://" not in html
        assert "<script" not in html
        assert not re.search(r"\b(src|href)\s*=", html)
        assert "url(" not in html and "@import" not in html
        # nothing can load even if some content slipped in
        assert "default-src 'none'" in unescape(html)


def test_report_is_small(smoke: Path) -> None:
    size = len(render_report(smoke, analyze(smoke)).encode())
    assert size < 150_000, size
