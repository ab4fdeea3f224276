"""`dagstorm nightly` on the real stack, scraped over /metrics and watched live in the TUI.

One real run serves both (it is the slow part): a one-scenario suite of the smoke
scenario cut to 2 minutes (tests/fixtures/scenarios/smoke-short.yaml) runs through
the CLI as CI runs it, with --metrics-port. While it runs, the test scrapes the
endpoint (parsed with prometheus_client's parser) and must see the run and its fault
applied; the TUI (headless, Pilot) attaches to the run's directory as `dagstorm
watch` does, pauses and resumes the workloads with its keys (the real control inbox,
acknowledged by the engine), and shows the run's phases, DAG runs and verdict.
Afterwards the suite's junit.xml validates against the JUnit schema, the history has
the run, and the report has its trend section. (`dagstorm run --tui` starts the same
engine with `--announce-file`; tests/unit/test_run_tui.py covers that hand-over.)
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from prometheus_client.parser import text_string_to_metric_families
from textual.pilot import Pilot

from dagstorm.clients.toxiproxy import ToxiproxyClient
from dagstorm.run.journal import read_journal
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack
from dagstorm.tui.app import create_app
from dagstorm.tui.widgets.run_header import RunHeader

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.anyio]

ROOT = Path(__file__).parents[2]
SHORT_SMOKE = ROOT / "tests" / "fixtures" / "scenarios" / "smoke-short.yaml"
SCHEMA = etree.XMLSchema(etree.parse(str(ROOT / "tests" / "fixtures" / "junit" / "junit.xsd")))
#: A one-scenario suite: the smoke scenario cut to 2 minutes (a test fixture).
SUITE = """\
suite: nightly-it
scenarios:
  - file: {smoke}
"""
#: Upper bound of any wait below (the run is 2 min + a drain of at most 3 min + analysis).
LIMIT_S = 900.0


@pytest.fixture
def anyio_backend() -> str:
    """Pilot runs on asyncio."""
    return "asyncio"


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scrape(port: int) -> dict[str, list[tuple[dict[str, str], float]]]:
    """name → [(labels, value)], or {} when the endpoint does not answer (yet or any more)."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return {}
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


class Scraper:
    """What /metrics showed so far: the run, and its fault applied."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.seen_run = False
        self.fault_active = False
        self._last = 0.0

    def poll(self) -> None:
        """Scrape at most every 2 s (called from the TUI's wait loop)."""
        if time.monotonic() - self._last < 2.0:
            return
        self._last = time.monotonic()
        samples = scrape(self.port)
        self.seen_run |= any(
            labels.get("scenario") == "smoke-short"
            for labels, _ in samples.get("dagstorm_run_info", [])
        )
        self.fault_active |= any(v == 1 for _, v in samples.get("dagstorm_faults_active", []))


async def until(
    pilot: Pilot[None], predicate: Callable[[], bool], what: str, scraper: Scraper
) -> None:
    """Let the app run until ``predicate`` holds (bounded; a condition, not a timing)."""
    steps = int(LIMIT_S / 0.2)
    for _ in range(steps):
        scraper.poll()
        if predicate():
            return
        await pilot.pause(0.2)
    raise AssertionError(f"not reached: {what}")


def _wait_for_run_dir(runs: Path, child: subprocess.Popen[str], scraper: Scraper) -> Path:
    """The suite's run directory of smoke-short, once its journal exists."""
    for _ in range(int(LIMIT_S / 0.1)):
        found = sorted(runs.glob("*-smoke-short/journal.jsonl"))
        if found:
            return found[0].parent
        assert child.poll() is None, child.communicate()[0]
        scraper.poll()
        time.sleep(0.1)
    raise AssertionError("the suite never started its run")


async def test_a_nightly_run_is_scraped_watched_and_steered_live(
    stack: Stack, stack_context: StackContext, tmp_path: Path
) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE.format(smoke=SHORT_SMOKE))
    runs, port = tmp_path / "runs", free_port()
    scraper = Scraper(port)
    command = [
        sys.executable, "-m", "dagstorm", "--state-dir", str(stack_context.layout.root),
        "nightly", str(suite), "--runs-dir", str(runs), "--metrics-port", str(port),
    ]  # fmt: skip
    child = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        run_dir = _wait_for_run_dir(runs, child, scraper)
        app = create_app(run_dir, mode="live")
        async with app.run_test(size=(160, 48)) as pilot:
            state = app.state

            def wait(predicate: Callable[[], bool], what: str) -> Any:
                return until(pilot, predicate, what, scraper)

            await wait(lambda: state.control and state.kinds["workload_stats"] > 0, "load")
            assert not state.ended
            assert "serving-db" in state.fault_links

            await pilot.press("p")  # pause, through the real control inbox
            await wait(lambda: state.paused and not app.sent, "pause acknowledged")
            seen = state.kinds["process_stats"]
            await wait(lambda: state.kinds["process_stats"] >= seen + 2, "probes go on")
            await pilot.press("p")  # resume
            await wait(lambda: not state.paused and not app.sent, "resume acknowledged")

            await wait(lambda: state.ended, "run_end")
            assert [p.name for p in state.phases] == ["warm-up", "chaos", "recovery"]
            assert state.kinds["phase_start"] >= 3
            assert state.dag_runs, "no DAG run shown"
            assert state.faults["slow-serving-db"].reverted_t is not None

            await wait((run_dir / "result.json").is_file, "result.json")
            result = json.loads((run_dir / "result.json").read_text())
            app._maybe_verdict()  # the final verdict: result.json now exists
            expected = {slo["name"] for slo in result["slos"]}
            await wait(lambda: {s.name for s in app.verdict.slos} == expected, "the verdict")
            app.redraw(force=True)
            header = str(app.screen.query_one(RunHeader).render())
            assert state.status.upper() in header and "sla:ad_logs_hourly" in header
        output = child.communicate(timeout=LIMIT_S)[0]
    finally:
        if child.poll() is None:
            child.terminate()  # SIGTERM: the engine reverts its faults before it exits
            child.communicate(timeout=120)

    assert "Traceback" not in output, output
    assert child.returncode in (0, 1), output
    assert scraper.seen_run and scraper.fault_active, output
    check_steering(run_dir)
    check_no_toxic_left(stack)
    check_suite_outputs(runs, child.returncode, output)


def check_steering(run_dir: Path) -> None:
    """The TUI's pause and resume went through the inbox, and the load really paused."""
    events = read_journal(run_dir / "journal.jsonl")
    acks = [(e["command"], e["outcome"]) for e in events if e["kind"] == "control_ack"]
    assert acks == [("pause", "done"), ("resume", "done")]
    taken = [e for e in events if e["kind"] == "control"]
    assert all(e["by"].startswith("tui ") for e in taken)
    paused_at = next(e["seq"] for e in events if e["kind"] == "control_ack")
    resumed_at = [e["seq"] for e in events if e["kind"] == "control_ack"][1]
    generated = [
        e
        for e in events
        if e["kind"] == "workload_stats" and paused_at < e["seq"] < resumed_at and e["records"]
    ]
    assert len(generated) <= 1, generated  # at most the iteration under way when it paused


def check_no_toxic_left(stack: Stack) -> None:
    """Every Toxiproxy link is enabled and clean after the run."""
    assert stack.toxiproxy_url is not None
    with ToxiproxyClient(stack.toxiproxy_url) as client:
        assert [p.name for p in client.list_proxies() if p.toxics or not p.enabled] == []


def check_suite_outputs(runs: Path, returncode: int, output: str) -> None:
    """summary.json, a schema-valid junit.xml (SLOs, then findings), history, trends."""
    (suite_dir,) = runs.glob("*-suite-nightly-it")
    summary = json.loads((suite_dir / "summary.json").read_text())
    assert summary["exit_code"] == returncode
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
