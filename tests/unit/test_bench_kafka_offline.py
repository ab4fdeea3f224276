"""bench/kafka_offline.py: the kafka_burst workload against a null producer, CPU per stage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "bench" / "kafka_offline.py"


def _run(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--json", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_every_record_is_built_closed_and_acked_and_each_stage_is_timed() -> None:
    result = _run("--records", "30000")
    assert result["records"] == 30000
    value_bytes, wire_bytes = int(str(result["value_bytes"])), int(str(result["wire_bytes"]))
    assert 300 * 30000 < value_bytes < 400 * 30000  # ~340-byte JSON records
    assert 0 < wire_bytes < value_bytes / 2  # lz4, closed batches (header + CRC)
    stages = result["stages"]
    assert isinstance(stages, dict)
    for stage in ("generate events", "JSON values", "compress", "header + CRC", "ledger counts"):
        assert stages.get(stage, 0) > 0, stage
    # exclusive times: together never more than the process's CPU
    assert sum(stages.values()) <= float(str(result["cpu"])) * 1.02


def test_without_stages_nothing_is_wrapped_and_uncompressed_batches_are_bigger() -> None:
    result = _run("--records", "20000", "--no-stages", "--compression", "none")
    assert result["stages"] == {} and result["found"] == []
    assert int(str(result["wire_bytes"])) > int(str(result["value_bytes"]))
