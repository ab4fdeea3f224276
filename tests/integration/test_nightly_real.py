"""`dagstorm nightly` on the real stack: a one-scenario suite, scraped live over /metrics.

The suite runs the smoke scenario (shortened: tests/fixtures/scenarios) through the
CLI with --metrics-port; while it runs, the test scrapes the endpoint (parsed with
prometheus_client's parser) and must see the run and its fault applied; afterwards
the suite's junit.xml validates against the JUnit schema, the history has the run,
and the report has its trend section.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from lxml import etree
from prometheus_client.parser import text_string_to_metric_families

from dagstorm.stack.embedded.context import StackContext

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).parents[2]
SCHEMA = etree.XMLSchema(etree.parse(str(ROOT / "tests" / "fixtures" / "junit" / "junit.xsd")))
#: A one-scenario suite: the smoke scenario cut to 2 minutes (a test fixture).
SUITE = """\
suite: nightly-it
scenarios:
  - file: {smoke}
"""
#: The run is 2 min plus a drain of at most 3 min; the whole suite must end well within this.
DEADLINE_S = 900


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scrape(port: int) -> dict[str, list[tuple[dict[str, str], float]]]:
    """name → [(labels, value)], or {} when the endpoint does not answer yet."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return {}
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def test_nightly_suite_on_the_real_stack(stack_context: StackContext, tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        SUITE.format(smoke=ROOT / "tests" / "fixtures" / "scenarios" / "smoke-short.yaml")
    )
    runs, port = tmp_path / "runs", free_port()
    command = [
        sys.executable, "-m", "dagstorm", "--state-dir", str(stack_context.layout.root),
        "nightly", str(suite), "--runs-dir", str(runs), "--metrics-port", str(port),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    started, seen_run, fault_active = time.monotonic(), False, False
    try:
        while process.poll() is None and time.monotonic() - started < DEADLINE_S:
            samples = scrape(port)
            seen_run |= any(
                labels.get("scenario") == "smoke-short"
                for labels, _ in samples.get("dagstorm_run_info", [])
            )
            fault_active |= any(v == 1 for _, v in samples.get("dagstorm_faults_active", []))
            time.sleep(2)
        output = process.communicate(timeout=60)[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode in (0, 1), output
    assert "Traceback" not in output
    assert seen_run and fault_active, output

    (suite_dir,) = runs.glob("*-suite-nightly-it")
    summary = json.loads((suite_dir / "summary.json").read_text())
    assert summary["exit_code"] == process.returncode
    (row,) = summary["scenarios"]
    assert row["scenario"] == "smoke-short" and row["verdict"] in ("PASS", "FAIL")
    document = etree.parse(str(suite_dir / "junit.xml"))
    SCHEMA.assertValid(document)
    (testsuite,) = document.getroot().findall("testsuite")
    names = [case.get("name") for case in testsuite.findall("testcase")]
    # A test case per SLO, then one per finding of the run's own result.json (a fault
    # that did not recover within this short run is a finding, not an SLO).
    result = json.loads((Path(row["run_dir"]) / "result.json").read_text())
    findings = result["verdict"]["findings"]
    slos = ["sla:ad_logs_hourly", "recovery_time:max", "lost_events", "duplicate_events"]
    assert names == slos + [f["subject"] for f in findings]
    messages = {f["text"] for f in findings}
    for failure in testsuite.iter("failure"):
        message = failure.get("message", "")
        assert " vs target " in message or message in messages, message
    assert "[nightly-it 1/1] smoke-short: start" in output
    assert "\x1b[" not in output  # no ANSI codes in a CI log

    history = [json.loads(line) for line in (runs / "history.jsonl").read_text().splitlines()]
    assert [(h["scenario"], h["suite"]) for h in history] == [("smoke-short", "nightly-it")]
    report = (Path(row["run_dir"]) / "report.html").read_text()
    assert 'id="trends"' in report and 'id="ramp"' in report
