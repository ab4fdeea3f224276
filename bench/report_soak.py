"""Analysis and report of a long soak: wall time, peak RSS and report size.

Generates the synthetic 24 h compressed-soak run directory (bench/soak_journal.py,
~10 M events) unless it exists, then, in a fresh subprocess, runs what
`dagstorm analyze` does (analysis, result.json, junit.xml, report.html) and
prints the wall and CPU time (user + sys, Arrow's threads included) of each
stage, the subprocess's peak RSS and the report's size. Goal (issue 8): <= 30 s
and <= 2 GB for 24 h. On a shared machine the CPU time is the steadier figure.

    python bench/report_soak.py [--hours 24] [--dir /tmp/dagstorm-soak-bench]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from soak_journal import write_soak  # noqa: E402

#: The peer: only reading the journal's lines (no JSON), the floor of any reader.
PEER = """
import json, resource, sys, time
t0 = time.monotonic()
n = 0
with open(sys.argv[1], "rb") as handle:
    for _ in handle:
        n += 1
print(json.dumps({"lines": n, "read_s": time.monotonic() - t0,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CHILD = """
import json, resource, sys, time
from pathlib import Path
from dagstorm.analysis import analyze, write_junit, write_result
from dagstorm.reports import write_report
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
run_dir = Path(sys.argv[1])
t0, c0 = time.monotonic(), cpu()
result = analyze(run_dir)
t1, c1 = time.monotonic(), cpu()
write_result(run_dir, result)
write_junit(run_dir, result)
report = write_report(run_dir, result)
t2, c2 = time.monotonic(), cpu()
print(json.dumps({
    "events": result.run.events,
    "analysis_s": t1 - t0,
    "report_s": t2 - t1,
    "total_s": t2 - t0,
    "analysis_cpu_s": c1 - c0,
    "report_cpu_s": c2 - c1,
    "total_cpu_s": c2 - c0,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "report_bytes": report.stat().st_size,
    "verdict": [(v.name, v.value_text) for v in result.verdict.slos],
}))
"""


def main() -> None:
    """Generate if needed, measure in a subprocess, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0, help="hours of soak journal")
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path("/tmp/dagstorm-soak-bench"),
        help="where the journal is generated (once) and kept",
    )
    args = parser.parse_args()
    run_dir = args.dir / f"soak-{args.hours:g}h"
    if not (run_dir / "journal.jsonl").is_file():
        events = write_soak(run_dir, args.hours)
        print(f"generated {events:,} events into {run_dir}", flush=True)
    size = (run_dir / "journal.jsonl").stat().st_size
    peer = json.loads(
        subprocess.run(
            [sys.executable, "-c", PEER, str(run_dir / "journal.jsonl")],
            capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(run_dir)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"journal: {figures['events']:,} events, {size / 1e9:.2f} GB ({args.hours:g} h)")
    print(
        f"analysis: {figures['analysis_s']:.1f} s; report: {figures['report_s']:.1f} s;"
        f" total {figures['total_s']:.1f} s (goal <= 30 s)"
    )
    print(
        f"CPU (user + sys): analysis {figures['analysis_cpu_s']:.1f} s;"
        f" report {figures['report_cpu_s']:.1f} s; total {figures['total_cpu_s']:.1f} s"
    )
    print(f"peak RSS: {figures['peak_rss_mb']:,.0f} MB (goal <= 2048 MB)")
    print(f"report.html: {figures['report_bytes'] / 1e3:,.0f} kB")
    print(
        f"peer (reading the lines only, no JSON): {peer['read_s']:.1f} s —"
        f" analysis + report = {figures['total_s'] / peer['read_s']:.1f}× the peer"
    )
    for name, value in figures["verdict"]:
        print(f"  {name}: {value}")


if __name__ == "__main__":
    main()
