"""CPU of `dagstorm watch` following a journal that grows at ~1000 events/s.

Writes a run directory whose journal gets RATE events a second (a mix of kinds
replayed from the recorded smoke run, re-stamped), runs the TUI in a headless
subprocess following it, and prints the subprocess's CPU (100% = one core) and
peak RSS over the measured window.

    python bench/tui_follow.py [--rate 1000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import psutil

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "runs" / "20261124T041804Z-smoke" / "journal.jsonl"
CHILD = (
    "import sys; from pathlib import Path; import dagstorm.tui.app as m; "
    "m.REDRAW_S = float(sys.argv[2]); m.VERDICT_S = float(sys.argv[3]); create_app = m.create_app; "
    "create_app(Path(sys.argv[1]), mode='live').run(headless=True, size=(160, 48))"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000, help="events per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to follow")
    parser.add_argument("--redraw", type=float, default=1.0, help="redraw interval (s)")
    parser.add_argument("--verdict", type=float, default=5.0, help="live verdict interval (s)")
    args = parser.parse_args()
    source = [orjson.loads(line) for line in FIXTURE.read_bytes().splitlines()]
    start_event, body = source[0], [e for e in source[1:] if e["kind"] != "run_end"]
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "bench-run"
        run_dir.mkdir()
        journal = run_dir / "journal.jsonl"
        origin = time.time()
        start_event = {**start_event, "t": 0.0, "wall": origin, "duration_s": args.seconds}
        journal.write_bytes(orjson.dumps(start_event) + b"\n")
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(run_dir), str(args.redraw), str(args.verdict)],
            cwd=ROOT,
        )
        proc = psutil.Process(child.pid)
        time.sleep(2.0)  # start-up is not what we measure
        cpu0 = proc.cpu_times()
        t0 = time.monotonic()
        seq, index, peak_rss, written = 2, 0, 0, 0
        with journal.open("ab") as handle:
            while (now := time.monotonic() - t0) < args.seconds:
                due = int(now * args.rate) - written
                lines = []
                for _ in range(max(due, 0)):
                    event = {**body[index % len(body)], "seq": seq, "t": round(now + 2, 3)}
                    event["wall"] = origin + event["t"]
                    lines.append(orjson.dumps(event) + b"\n")
                    seq, index, written = seq + 1, index + 1, written + 1
                handle.write(b"".join(lines))
                handle.flush()
                peak_rss = max(peak_rss, proc.memory_info().rss)
                time.sleep(0.05)
        elapsed = time.monotonic() - t0
        cpu1 = proc.cpu_times()
        child.terminate()
        child.wait(timeout=10)
    used = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    print(f"events written: {written} in {elapsed:.1f} s ({written / elapsed:.0f}/s)")
    print(f"TUI CPU: {100 * used / elapsed:.1f}% of one core; peak RSS {peak_rss / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
