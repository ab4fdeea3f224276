"""dagstorm's own memory over a run: RSS of the `dagstorm` process from its journal.

The process probe journals ``process_stats`` for component ``dagstorm`` (the
harness itself) every probe interval. This prints the RSS at the start and the
end (medians of the first and last ``--window`` seconds), the peak, the growth,
and the RSS per 20-minute slice, for a soak's run directory. Goal (issue 6): growth
<= 50 MB over a 2 h compressed soak.

    dagstorm run scenarios/soak.yaml --runs-dir /tmp/soak/runs     # 2 h wall
    python bench/soak_rss.py /tmp/soak/runs/<timestamp>-soak
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import orjson


def dagstorm_rss(journal: Path) -> list[tuple[float, float, float]]:
    """(t, rss_mb, cpu_pct) of every process_stats sample of dagstorm itself."""
    samples = []
    with journal.open("rb") as handle:
        for line in handle:
            if b'"component":"dagstorm"' not in line:
                continue
            event = orjson.loads(line)
            if event.get("kind") == "process_stats" and event.get("component") == "dagstorm":
                samples.append((float(event["t"]), float(event["rss_mb"]), float(event["cpu_pct"])))
    return samples


def main(argv: list[str]) -> int:
    """Print the figures; exit 2 without samples."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="the soak's run directory")
    parser.add_argument("--window", type=float, default=600.0, help="seconds (default 600)")
    args = parser.parse_args(argv)
    samples = dagstorm_rss(args.run_dir / "journal.jsonl")
    if not samples:
        print(f"no process_stats of dagstorm in {args.run_dir}/journal.jsonl", file=sys.stderr)
        return 2
    end = samples[-1][0]
    first = statistics.median(r for t, r, _ in samples if t < args.window)
    last = statistics.median(r for t, r, _ in samples if t > end - args.window)
    peak = max(r for _, r, _ in samples)
    window = f"{args.window:.0f} s"
    rows = [
        (f"RSS start (median of the first {window})", f"{first:8.1f} MB"),
        (f"RSS end (median of the last {window})", f"{last:8.1f} MB"),
        ("RSS peak", f"{peak:8.1f} MB"),
        ("growth, end - start", f"{last - first:+8.1f} MB"),
        ("growth, peak - start", f"{peak - first:+8.1f} MB"),
        ("CPU, mean", f"{statistics.mean(c for *_, c in samples):8.1f} %"),
    ]
    print(f"samples {len(samples)} over {end / 60:.0f} min wall")
    for label, value in rows:
        print(f"{label:<42}{value}")
    for start in range(0, int(end) + 1, 1200):
        part = [r for t, r, _ in samples if start <= t < start + 1200]
        if part:
            minute = start // 60
            median = statistics.median(part)
            span = f"{minute:4d}–{minute + 20:<4d} min"
            print(f"  {span}  median {median:6.1f}  max {max(part):6.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
