"""Benchmark: what a drain poll and a live SLO check cost in journal reading, in a long soak.

While a run drains, every 3 s it asks which DAG runs it triggered, which completion
signals it sent and which asset events it posted. Before, each poll read the whole
journal four times, parsing every line into a list of every event (``read_journal``:
two reads for the triggered runs, one each for the signals and the asset storms).
Now :class:`~dagstorm.engine.drain.DrainWatch` reads the journal once, parsing only
the lines of those kinds, and after that only what was written since its last poll.

On the synthetic soak run directory of bench/soak_journal.py (generated unless it
exists), each contender runs in a fresh subprocess, so its peak RSS is its own:

- ``before: 4 full reads``: what a poll did (the peer, measured in the same run);
- ``watch: first poll``: the whole journal once, kinds filtered by their bytes;
- ``watch: a later poll``: after 3 s of a soak's events (~330 lines) were appended.

Both must find the same run ids, or the bench exits non-zero.

The live SLO check (``abort: true`` SLOs, every 10 s of a run) had the same habit:
each check read the whole journal and built the run's data from every event.
``LiveChecks`` keeps only the kinds the checks use, read incrementally:

- ``live check before``: the journal read whole, run data built from every event;
- ``live check: first`` and ``a later`` one, as above.

    .venv/bin/python bench/drain_poll.py [--hours 4] [--dir /tmp/dagstorm-drain-bench]
    .venv/bin/python bench/drain_poll.py --hours 24 --skip-before   # the watch alone
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from soak_journal import write_soak  # noqa: E402

BEFORE = """
import json, resource, sys, time
from pathlib import Path
from dagstorm.run.journal import read_journal
path = Path(sys.argv[1])
t0 = time.monotonic()
runs = {str(e["run_id"]) for e in read_journal(path)
        if e.get("kind") == "dag_triggered" and e.get("ok") and e.get("run_id")}
for e in read_journal(path):  # the asset events' runs
    if e.get("kind") == "asset_runs":
        runs.update(str(r[1]) for r in e.get("runs") or [] if len(r) == 2)
signals = {str(e["signal_id"]) for e in read_journal(path)
           if e.get("kind") == "kafka_signal" and e.get("ok") and e.get("signal_id")}
assets = [e for e in read_journal(path) if e.get("kind") == "dag_triggered" and e.get("asset")]
print(json.dumps({"poll_s": time.monotonic() - t0, "runs": len(runs),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

WATCH = """
import json, resource, sys, time
from pathlib import Path
from dagstorm.engine.drain import DrainWatch
path = Path(sys.argv[1])
watch = DrainWatch(path)
t0 = time.monotonic()
watch.update()
first = time.monotonic() - t0
tail = Path(sys.argv[2]).read_bytes()
with path.open("ab") as handle:  # 3 s of a soak's events, written meanwhile
    handle.write(tail)
t1 = time.monotonic()
watch.update()
later = time.monotonic() - t1
print(json.dumps({"first_s": first, "later_s": later, "runs": len(watch.run_ids),
                  "later_bytes": len(tail),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

LIVE_BEFORE = """
import json, resource, sys, time
from pathlib import Path
from dagstorm.analysis.rundata.load import build_run_data
from dagstorm.run.journal import read_journal
path = Path(sys.argv[1])
t0 = time.monotonic()
data = build_run_data(read_journal(path), run_dir=path.parent)
print(json.dumps({"poll_s": time.monotonic() - t0, "runs": len(data.dag_runs),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

LIVE_AFTER = """
import json, resource, sys, time
from pathlib import Path
from dagstorm.analysis.verdict.live import LiveChecks
path = Path(sys.argv[1])
checks = LiveChecks()
t0 = time.monotonic()
checks(path)
first = time.monotonic() - t0
with path.open("ab") as handle:
    handle.write(Path(sys.argv[2]).read_bytes())
t1 = time.monotonic()
checks(path)
print(json.dumps({"first_s": first, "later_s": time.monotonic() - t1,
                  "runs": len({(e["dag_id"], e["run_id"]) for e in checks._events
                               if e.get("kind") == "dag_run"}),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

#: Seconds of soak appended between two polls (the drain's poll interval).
POLL_S = 3.0


def child(code: str, *argv: str) -> dict[str, float]:
    """Run ``code`` in a fresh interpreter; its one JSON line."""
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"contender failed: {done.stderr[-2000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def tail_of(journal: Path, seconds: float) -> bytes:
    """The journal's last ``seconds`` of events (by their ``t``), as written."""
    with journal.open("rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(0, size - 4_000_000))
        lines = handle.read().splitlines(keepends=True)[1:]
    last = json.loads(lines[-1])["t"]
    return b"".join(line for line in lines if json.loads(line)["t"] > last - seconds)


def main() -> None:
    """Generate if needed, measure each contender in a subprocess, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=4.0, help="hours of soak journal")
    parser.add_argument(
        "--dir", type=Path, default=Path("/tmp/dagstorm-drain-bench"), help="run directory"
    )
    parser.add_argument("--skip-before", action="store_true", help="measure the watch alone")
    args = parser.parse_args()
    run_dir = args.dir / f"{args.hours:g}h"
    journal = run_dir / "journal.jsonl"
    if not journal.exists():
        print(f"generating {args.hours:g} h of soak journal in {run_dir} …", flush=True)
        write_soak(run_dir, args.hours)
    size = journal.stat().st_size
    tail = tail_of(journal, POLL_S)
    spare = run_dir / "tail.jsonl"
    spare.write_bytes(tail)
    print(f"journal: {size / 1e6:,.0f} MB; {POLL_S:g} s of events appended: {len(tail):,} B")
    before = None if args.skip_before else child(BEFORE, str(journal))
    work = run_dir / "watched.jsonl"
    # The watch appends to a copy; copied by the kernel, not through this process's
    # memory (a child forked from a large process would inherit its peak RSS figure).
    shutil.copyfile(journal, work)
    watch = child(WATCH, str(work), str(spare))
    shutil.copyfile(journal, work)
    live = child(LIVE_AFTER, str(work), str(spare))
    live_before = None if args.skip_before else child(LIVE_BEFORE, str(journal))
    work.unlink()
    print(f"{'contender':<26}{'poll s':>10}{'peak RSS MB':>13}")
    rows = [("watch: first poll", watch["first_s"], watch["peak_rss_mb"])]
    if before is not None:
        rows.insert(0, ("before: 4 full reads", before["poll_s"], before["peak_rss_mb"]))
    for name, seconds, rss in rows:
        print(f"{name:<26}{seconds:>10.2f}{rss:>13.0f}")
    print(f"{'watch: a later poll':<26}{watch['later_s']:>10.4f}")
    if live_before is not None:
        print(f"{'live check before':<26}{live_before['poll_s']:>10.2f}"
              f"{live_before['peak_rss_mb']:>13.0f}")  # fmt: skip
    print(f"{'live check: first':<26}{live['first_s']:>10.2f}{live['peak_rss_mb']:>13.0f}")
    print(f"{'live check: a later one':<26}{live['later_s']:>10.4f}")
    if live_before is not None and live_before["runs"] != live["runs"]:
        sys.exit(f"DAG runs differ: before {live_before['runs']}, after {live['runs']}")
    if before is not None:
        if before["runs"] != watch["runs"]:
            sys.exit(f"run ids differ: before {before['runs']}, watch {watch['runs']}")
        first = before["poll_s"] / watch["first_s"]
        later = before["poll_s"] / max(watch["later_s"], 1e-6)
        print(
            f"runs found: {watch['runs']:,} (both); against a poll before: the first poll"
            f" {first:.1f}x faster, a later poll {later:,.0f}x"
        )


if __name__ == "__main__":
    main()
