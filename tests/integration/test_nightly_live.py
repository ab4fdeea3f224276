"""`dagstorm watch` attached to a real (shortened) smoke run, steering it through the inbox.

The engine runs as `dagstorm run` in a child process on the real stack, exactly as
under `dagstorm run --tui`; the TUI (headless, Pilot) follows its journal, pauses and
resumes the workloads with its keys (the real control inbox, acknowledged by the
engine), and shows the run's phases, DAG runs and verdict.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
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
#: Upper bound of any wait below (the run is 2 min + a drain of at most 3 min + analysis).
LIMIT_S = 900.0


@pytest.fixture
def anyio_backend() -> str:
    """Pilot runs on asyncio."""
    return "asyncio"


async def until(pilot: Pilot[None], predicate: Callable[[], bool], what: str) -> None:
    """Let the app run until ``predicate`` holds (bounded; a condition, not a timing)."""
    steps = int(LIMIT_S / 0.2)
    for _ in range(steps):
        if predicate():
            return
        await pilot.pause(0.2)
    raise AssertionError(f"not reached: {what}")


def _wait_for_file(path: Path, child: subprocess.Popen[str]) -> Path:
    for _ in range(int(LIMIT_S / 0.1)):
        if path.exists():
            return Path(path.read_text().strip())
        assert child.poll() is None, child.communicate()[0]
        time.sleep(0.1)
    raise AssertionError("the engine never announced its run directory")


async def test_watch_follows_and_steers_a_real_smoke_run(
    stack: Stack, stack_context: StackContext, tmp_path: Path
) -> None:
    scenario = SHORT_SMOKE
    announce = tmp_path / "run_dir"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagstorm",
            "--state-dir",
            str(stack_context.layout.root),
            "run",
            str(scenario),
            "--runs-dir",
            str(tmp_path / "runs"),
            "--announce-file",
            str(announce),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        run_dir = _wait_for_file(announce, child)
        app = create_app(run_dir, mode="live")
        async with app.run_test(size=(160, 48)) as pilot:
            state = app.state
            await until(pilot, lambda: state.control and state.kinds["workload_stats"] > 0, "load")
            assert not state.ended
            assert "serving-db" in state.fault_links

            await pilot.press("p")  # pause, through the real control inbox
            await until(pilot, lambda: state.paused and not app.sent, "pause acknowledged")
            seen = state.kinds["process_stats"]
            await until(pilot, lambda: state.kinds["process_stats"] >= seen + 2, "probes go on")
            await pilot.press("p")  # resume
            await until(pilot, lambda: not state.paused and not app.sent, "resume acknowledged")

            await until(pilot, lambda: state.ended, "run_end")
            assert [p.name for p in state.phases] == ["warm-up", "chaos", "recovery"]
            assert state.kinds["phase_start"] >= 3
            assert state.dag_runs, "no DAG run shown"
            assert state.faults["slow-serving-db"].reverted_t is not None

            output = child.communicate(timeout=LIMIT_S)[0]
            assert "Traceback" not in output, output
            result = json.loads((run_dir / "result.json").read_text())
            app._maybe_verdict()  # the final verdict: result.json now exists
            expected = {slo["name"] for slo in result["slos"]}
            await until(
                pilot, lambda: {s.name for s in app.verdict.slos} == expected, "the verdict"
            )
            app.redraw(force=True)
            header = str(app.screen.query_one(RunHeader).render())
            assert state.status.upper() in header and "sla:ad_logs_hourly" in header
    finally:
        if child.poll() is None:
            child.terminate()  # SIGTERM: the engine reverts its faults before it exits
            child.communicate(timeout=120)

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
    assert stack.toxiproxy_url is not None
    with ToxiproxyClient(stack.toxiproxy_url) as client:
        assert [p.name for p in client.list_proxies() if p.toxics or not p.enabled] == []
