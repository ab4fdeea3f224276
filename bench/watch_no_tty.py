"""CPU of `dagstorm watch RUN_DIR` with and without a terminal on stdin, stdout, stderr.

Starts `python -m dagstorm watch RUN_DIR` from a checkout (``--src``, default this
one; ``--peer-src DIR`` adds another checkout, e.g. the main branch, for a
before/after), with stdin, stdout and stderr each a pseudo-terminal, /dev/null, a
file or an open pipe, lets it start, then samples its CPU for ``--seconds``.
Prints CPU % of one core per case. Nothing is asserted: these are figures
(docs/benchmarks.md).

    .venv/bin/python bench/watch_no_tty.py tests/fixtures/runs/20261124T041804Z-smoke \\
        --peer-src /work/main --seconds 20
"""

from __future__ import annotations

import argparse
import os
import pty
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
#: stdin, stdout, stderr of each case.
CASES = (
    ("tty", "tty", "tty"),
    ("tty", "file", "file"),
    ("null", "file", "file"),
    ("null", "null", "null"),
    ("pipe", "file", "file"),
)
#: Start-up (imports, the first read of the journal) is not what is measured.
SETTLE_S = 4.0


def measure(src: Path, run_dir: Path, case: tuple[str, str, str], seconds: float) -> str:
    """One case: CPU % of one core over ``seconds`` (or how it ended early)."""
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    with tempfile.TemporaryDirectory(prefix="dagstorm-watch-bench-") as tmp:
        files: list[IO[bytes]] = []

        def stream(kind: str, name: str) -> Any:
            if kind == "tty":
                return slave
            if kind == "null":
                return subprocess.DEVNULL
            if kind == "pipe":
                return subprocess.PIPE  # open, never written to, never closed
            files.append(open(Path(tmp) / name, "wb"))  # noqa: SIM115 - closed below
            return files[-1]

        env = dict(os.environ, PYTHONPATH=str(src), COLUMNS="120", LINES="40")
        child = subprocess.Popen(
            [sys.executable, "-m", "dagstorm", "watch", str(run_dir)],
            stdin=stream(case[0], "in"),
            stdout=stream(case[1], "out"),
            stderr=stream(case[2], "err"),
            env=env,
            cwd=src,
            start_new_session=True,
        )
        proc = psutil.Process(child.pid)

        def wait(until: float) -> None:
            while time.monotonic() < until and child.poll() is None:
                try:
                    while os.read(master, 65536):  # keep the terminal's buffer empty
                        pass
                except OSError:
                    pass
                time.sleep(0.05)

        try:
            wait(time.monotonic() + SETTLE_S)
            if child.poll() is not None:
                return f"exited with {child.returncode} during start-up"
            before, started = sum(proc.cpu_times()[:2]), time.monotonic()
            wait(started + seconds)
            if child.poll() is not None:
                return f"exited with {child.returncode} while measured"
            used, spent = sum(proc.cpu_times()[:2]) - before, time.monotonic() - started
            return f"{100 * used / spent:5.1f}% of one core over {spent:.1f} s"
        finally:
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    child.kill()
            for handle in files:
                handle.close()
            os.close(master)
            os.close(slave)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a run directory (finished: it replays)")
    parser.add_argument("--src", type=Path, default=ROOT, help="the checkout to measure")
    parser.add_argument("--peer-src", type=Path, help="another checkout, measured alike")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--rounds", type=int, default=1, help="alternate the checkouts")
    args = parser.parse_args()
    sources = [args.src.resolve()] + ([args.peer_src.resolve()] if args.peer_src else [])
    run_dir = args.run_dir.resolve()
    print(f"dagstorm watch {run_dir}; {args.seconds:g} s per case; load {os.getloadavg()[0]:.1f}")
    for case in CASES:
        label = "stdin={:<4} stdout={:<4} stderr={:<4}".format(*case)
        for _ in range(args.rounds):
            for src in sources:
                print(f"{label} {src}: {measure(src, run_dir, case, args.seconds)}", flush=True)


if __name__ == "__main__":
    main()
