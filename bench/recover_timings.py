"""How long `dagstorm recover` takes, and what it starts and deploys, on the real stack.

Usage: DAGSTORM_STATE_DIR=… .venv/bin/python bench/recover_timings.py [--src DIR]
       [--clean N] [--kills N]

Needs a running embedded stack (`dagstorm stack up`); leaves it running. Three cases,
each `recover` run as its own `python -m dagstorm recover` process (import time
included), with the dagstorm found in ``--src`` (default: this checkout):

* nothing to recover: the fault journal is clean and the stack whole (``--clean`` runs);
* an orphaned scheduler kill: `dagstorm fault inject airflow action=kill
  component=scheduler` without ``--duration`` (its dagstorm exits, the fault stays
  open with its owner gone), then `recover` (``--kills`` runs);
* a scheduler SIGKILLed behind dagstorm's back (its process group, pid from
  `dagstorm stack status --json`), then `recover` (``--kills`` runs).

For each run: wall time, how many times each component was started (the
``=== dagstorm: starting`` lines `spawn` writes to its log), how many times the
pipeline profiles were deployed (`✓ deploy pipeline NAME` progress lines), and
recover's summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

from dagstorm.stack.config import load_stack_config
from dagstorm.stack.embedded.layout import StateLayout

ROOT = Path(__file__).resolve().parent.parent


def _dagstorm(src: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [sys.executable, "-m", "dagstorm", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=src,  # `python -m` puts the working directory first on sys.path
        timeout=600,
        check=False,
    )


def _starts(logs: Path) -> dict[str, int]:
    counts = {}
    for log in sorted(logs.glob("*.log")):
        text = log.read_text(errors="replace")
        counts[log.stem] = text.count("=== dagstorm: starting ")
    return counts


def _recover(src: Path, logs: Path) -> tuple[float, dict[str, int], int, str, int]:
    before = _starts(logs)
    started = time.monotonic()
    done = _dagstorm(src, "recover")
    took = time.monotonic() - started
    after = _starts(logs)
    starts = {
        name: after[name] - before.get(name, 0)
        for name in after
        if after[name] > before.get(name, 0)
    }
    output = done.stdout + done.stderr
    deploys = sum(1 for line in output.splitlines() if line.startswith("✓ deploy pipeline "))
    summary = " / ".join(line for line in done.stdout.splitlines() if line.strip())
    return took, starts, deploys, summary, done.returncode


def _scheduler_pid(src: Path) -> int:
    rows = json.loads(_dagstorm(src, "stack", "status", "--json").stdout)
    pid = next(r["pid"] for r in rows if r["name"] == "airflow-scheduler")
    if pid is None:
        raise SystemExit("the scheduler is not running: `dagstorm stack up` first")
    return int(pid)


def _row(case: str, result: tuple[float, dict[str, int], int, str, int]) -> None:
    took, starts, deploys, summary, code = result
    started = ", ".join(f"{n}×{c}" for n, c in starts.items()) or "none"
    print(f"{case:22} {took:6.1f} s  rc={code}  started: {started}; deploys: {deploys}", flush=True)
    print(f"{'':22} {summary}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--src", type=Path, default=ROOT, help="checkout whose dagstorm runs")
    parser.add_argument("--clean", type=int, default=5, help="runs with nothing to recover")
    parser.add_argument("--kills", type=int, default=3, help="runs of each scheduler-kill case")
    args = parser.parse_args()
    logs = StateLayout(load_stack_config().resolved_state_dir()).logs_dir
    src = args.src.resolve()
    print(f"dagstorm from {src}")
    first = _recover(src, logs)  # start from a whole stack and a clean journal
    if first[4] != 0:
        raise SystemExit(f"recover failed before the benchmark: {first[3]}")
    clean = []
    for _ in range(args.clean):
        result = _recover(src, logs)
        clean.append(result[0])
        _row("nothing to recover", result)
    if clean:
        print(
            f"nothing to recover: min {min(clean):.1f} s, median "
            f"{statistics.median(clean):.1f} s, max {max(clean):.1f} s over {len(clean)} runs",
            flush=True,
        )
    for _ in range(args.kills):
        injected = _dagstorm(
            src, "-q", "fault", "inject", "airflow", "action=kill", "component=scheduler"
        )
        if injected.returncode != 0:
            raise SystemExit(f"inject failed: {injected.stdout}{injected.stderr}")
        _row("orphaned kill fault", _recover(src, logs))
    for _ in range(args.kills):
        pid = _scheduler_pid(src)
        os.killpg(pid, signal.SIGKILL)
        psutil.wait_procs([p for p in psutil.process_iter() if p.pid == pid], timeout=10)
        _row("scheduler SIGKILLed", _recover(src, logs))


if __name__ == "__main__":
    main()
