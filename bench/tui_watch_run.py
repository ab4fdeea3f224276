"""CPU of `dagstorm watch` attached to a REAL run, against its peers in the same run.

Starts `dagstorm run SCENARIO` on the stack of the current stack config (the
engine: probes, workloads, journal), then, once the run directory exists, attaches
headless TUIs to it in their own processes (160×48): this checkout's, and with
``--peer-src DIR`` the TUI of another checkout (e.g. the main branch, for a
before/after on the very same run). It samples each process's CPU until the run
ends and prints CPU % of one core for each, and the ratios between them.

    DAGSTORM_STACK_FILE=... .venv/bin/python bench/tui_watch_run.py scenarios/smoke.yaml \\
        --peer-src /work/main

The engine's figure includes the workloads (the generator writes the landing zone);
``--probes-only`` runs the scenario with no workloads and no faults, so the engine's
figure is the probes' (plus the journal and the timeline loop).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHILD = (
    "import sys; from pathlib import Path; from dagstorm.tui.app import create_app; "
    "create_app(Path(sys.argv[1]), mode='live').run(headless=True, size=(160, 48))"
)
#: Start-up (imports, reading the journal so far) is not what is measured.
SETTLE_S = 5.0


def cpu_seconds(proc: psutil.Process) -> float:
    """User + system CPU seconds of a process and its children."""
    times = proc.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def scenario_file(path: Path, probes_only: bool, tmp: Path) -> Path:
    """The scenario, or a variant of it with no workloads and no faults."""
    if not probes_only:
        return path
    variant = tmp / f"{path.stem}-probes-only.yaml"
    variant.write_text(
        yaml.safe_dump(
            {
                "extends": str(path.resolve()),
                "name": f"{path.stem}-probes-only",
                "workloads": [],
                "faults": [],
                "drain": 0,
            }
        )
    )
    return variant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", type=Path, help="the scenario to run")
    parser.add_argument("--peer-src", type=Path, help="another checkout whose TUI runs too")
    parser.add_argument("--probes-only", action="store_true", help="without workloads and faults")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tui-watch-run-") as tmp_name:
        tmp = Path(tmp_name)
        announce = tmp / "run_dir"
        engine = subprocess.Popen(
            [
                *(sys.executable, "-m", "dagstorm", "-q", "run"),
                str(scenario_file(args.scenario, args.probes_only, tmp)),
                *("--runs-dir", str(tmp / "runs"), "--announce-file", str(announce)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while not announce.exists():
            if engine.poll() is not None:
                sys.exit(f"the engine ended before the run started (exit {engine.returncode})")
            time.sleep(0.1)
        run_dir = Path(announce.read_text())
        watchers = {"tui (this checkout)": os.environ.get("PYTHONPATH", "")}
        if args.peer_src is not None:
            watchers[f"tui ({args.peer_src})"] = str(args.peer_src.resolve())
        children = {
            name: subprocess.Popen(
                [sys.executable, "-c", CHILD, str(run_dir)],
                env={**os.environ, "PYTHONPATH": path} if path else None,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=tmp,
            )
            for name, path in watchers.items()
        }
        time.sleep(SETTLE_S)
        procs = {"engine (probes, workloads)": psutil.Process(engine.pid)}
        procs.update({name: psutil.Process(child.pid) for name, child in children.items()})
        start = {name: cpu_seconds(p) for name, p in procs.items()}
        t0 = time.monotonic()
        used = dict.fromkeys(procs, 0.0)
        elapsed = 0.0
        while engine.poll() is None:
            for name, proc in procs.items():
                with contextlib.suppress(psutil.NoSuchProcess):
                    used[name] = cpu_seconds(proc) - start[name]
            elapsed = time.monotonic() - t0
            time.sleep(0.5)
        for child in children.values():
            child.terminate()
            child.wait(timeout=30)
        events = sum(1 for _ in (run_dir / "journal.jsonl").open("rb"))
    print(
        f"scenario {args.scenario.name}{' (probes only)' if args.probes_only else ''}: "
        f"{elapsed:.0f} s measured, journal {events} events"
    )
    pct = {name: 100 * value / elapsed for name, value in used.items()}
    for name, value in pct.items():
        print(f"{name:<40} {value:5.2f}% of one core")
    names = list(pct)
    if len(names) >= 3 and pct[names[2]] > 0:
        print(f"ratio {names[1]} / {names[2]}: {pct[names[1]] / pct[names[2]]:.2f}")
    if pct[names[0]] > 0:
        print(f"ratio {names[1]} / engine: {pct[names[1]] / pct[names[0]]:.2f}")


if __name__ == "__main__":
    main()
