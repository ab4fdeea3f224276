"""The smoke scenario end to end on the real stack, through the CLI, with its verdict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dagstorm.engine.journal import read_journal
from dagstorm.faults.toxiproxy import ToxiproxyClient
from dagstorm.stack.context import StackContext
from dagstorm.stack.endpoints import Stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).parents[2]


def test_smoke_scenario_runs_end_to_end_and_passes(
    stack: Stack, stack_context: StackContext, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagstorm",
            "--state-dir",
            str(stack_context.layout.root),
            "run",
            str(ROOT / "scenarios" / "smoke.yaml"),
            "--runs-dir",
            str(runs),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    (run_dir,) = list(runs.iterdir())
    events = read_journal(run_dir / "journal.jsonl")
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "run_start" and kinds[-1] == "run_end", output
    assert events[-1]["status"] == "completed", output
    assert kinds.count("partition_written") >= 2
    triggered = [e for e in events if e["kind"] == "dag_triggered"]
    assert triggered and all(e["ok"] for e in triggered)
    assert kinds.count("fault_applied") == kinds.count("fault_reverted") == 1
    assert "task_try" in kinds and "dag_run" in kinds
    assert stack.toxiproxy_url is not None
    with ToxiproxyClient(stack.toxiproxy_url) as client:
        assert [p.name for p in client.list_proxies() if p.toxics or not p.enabled] == []

    result = json.loads((run_dir / "result.json").read_text())
    verdicts = {slo["name"]: slo for slo in result["slos"]}
    assert set(verdicts) == {
        "sla:ad_logs_hourly",
        "recovery_time:max",
        "lost_events",
        "duplicate_events",
    }
    assert (run_dir / "junit.xml").is_file()
    assert done.returncode == 0, output
    assert all(slo["passed"] for slo in verdicts.values()), verdicts
