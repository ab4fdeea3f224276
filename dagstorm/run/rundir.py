"""Creating a run directory (layout: docs/journal.md)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from dagstorm.core.redaction import redact


def new_run_dir(runs_root: Path, scenario_name: str) -> Path:
    """``runs/<UTC timestamp>-<name>/`` (a suffix is added if it exists already)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = runs_root / f"{stamp}-{scenario_name}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    (path / "ledger").mkdir(parents=True)
    return path


def write_scenario(run_dir: Path, resolved: dict[str, Any], secrets: list[str]) -> None:
    """The resolved scenario, with any secret value replaced by ``***``."""
    text = yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True)
    header = f"# resolved by dagstorm at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n"
    (run_dir / "scenario.yaml").write_text(header + redact(text, secrets))
