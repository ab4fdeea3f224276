"""The Spark backend on the real embedded cluster equals the local generator.

One ``dagstorm generate --backend spark`` run (two chunk tasks per hour, so the
funnel's carried events cross tasks) against the local backend on the same
config: the same lines in the same order per partition, the same ledger bytes,
the same marker counts, and no ``_SUCCESS`` older than a part file of its partition.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson

from dagstorm.stack.embedded.context import StackContext
from dagstorm.workloads.sinks.pregenerate import build_config, generate_local

SOURCE = {
    "seed": 11,
    "rate": "10 events/s",
    "start": "2026-01-05T00:20:00Z",
    "batch_rows": 4_000,
    "max_window_seconds": 300,
    "bad_data": {"malformed": 0.01, "late": 0.02, "duplicate": 0.01},
}
DURATION = "2h30m"  # ~95k records in 3 partitions (a partial first and last hour)


def partitions(root: Path) -> dict[str, Path]:
    return {
        str(m.parent.relative_to(root)): m.parent for m in sorted(root.glob("dt=*/hour=*/_SUCCESS"))
    }


def lines(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.glob("part-*.jsonl")))


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_spark_backend_writes_the_local_data_set(
    stack_context: StackContext, tmp_path: Path
) -> None:
    local_root, spark_root = tmp_path / "local", tmp_path / "spark"
    config = build_config(
        SOURCE, root=local_root, landing={"part_max_bytes": 1 << 20, "fsync": False}
    )
    generate_local(config, 2.5 * 3600, ledger_dir=tmp_path / "local-ledger")

    scenario = tmp_path / "gen.yaml"  # seed, batching and bad data from a scenario's workload
    scenario.write_text(
        "name: gen\nduration: 1m\nseed: 11\nworkloads:\n  - kind: ad_logs\n"
        "    trigger_dag: null\n    batch_rows: 4000\n    max_window_seconds: 300\n"
        "    bad_data: {malformed: 0.01, late: 0.02, duplicate: 0.01}\n"
    )
    argv = [
        sys.executable, "-m", "dagstorm", "generate", "--json", "--scenario", str(scenario),
        "--rate", "10 events/s", "--start", "2026-01-05T00:20:00Z", "--duration", DURATION,
        "--out", str(spark_root), "--ledger", str(tmp_path / "spark-ledger"),
        "--part-mb", "1", "--no-fsync", "--backend", "spark", "--chunks-per-hour", "2",
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["backend"] == "spark" and summary["partitions"] == 3

    local, spark = partitions(local_root), partitions(spark_root)
    assert list(local) == list(spark) and len(local) == 3
    total = 0
    for name, directory in spark.items():
        assert lines(directory) == lines(local[name]), f"{name}: lines differ"
        assert not list(directory.glob(".*")), "no temporary file left"
        ours = orjson.loads((directory / "_SUCCESS").read_bytes())
        theirs = orjson.loads((local[name] / "_SUCCESS").read_bytes())
        assert {k: v for k, v in ours.items() if k != "files"} == {
            k: v for k, v in theirs.items() if k != "files"
        }
        names = sorted(f["name"] for f in ours["files"])
        assert names == sorted(p.name for p in directory.glob("part-*"))
        assert any(n.startswith("part-01") for n in names), "the hour's second chunk wrote parts"
        assert sum(f["records"] for f in ours["files"]) == ours["records"]
        marker_time = (directory / "_SUCCESS").stat().st_mtime_ns
        assert all(p.stat().st_mtime_ns <= marker_time for p in directory.glob("part-*"))
        total += ours["records"]
    assert summary["records"] == total > 80_000
    assert tree(tmp_path / "spark-ledger") == tree(tmp_path / "local-ledger")
