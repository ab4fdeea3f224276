"""The run history: one JSON line per finished run, appended to a history file.

Format (docs/trends.md, ``"format": 1``): each line is one object with the run
directory, scenario, start time, status, verdict, score, the headline measures
(:mod:`dagstorm.analysis.outputs.headline`) and each SLO's pass/fail. Lines are appended
with a single ``write`` on a file opened ``O_APPEND`` under an exclusive lock and
fsync'd, so concurrent runs never interleave and a crash leaves at most a torn
last line, which readers skip (like the journal).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from dagstorm.analysis.outputs.headline import headline_of
from dagstorm.core.errors import UsageError

__all__ = [
    "HISTORY_FILE",
    "HISTORY_FORMAT",
    "HistoryEntry",
    "append_history",
    "default_history_path",
    "entry_of",
    "read_history",
    "runs_of_scenario",
]

HISTORY_FORMAT = 1
HISTORY_FILE = "history.jsonl"
#: Environment variable naming the history file (the CLI's ``--history`` wins).
HISTORY_ENV = "DAGSTORM_HISTORY"


@dataclass(frozen=True)
class HistoryEntry:
    """One finished run as the history remembers it."""

    run: str
    path: str
    scenario: str
    started_at: str
    status: str
    passed: bool
    exit_code: int
    wall_s: float
    measures: Mapping[str, float | None]
    #: SLO name → passed.
    slos: Mapping[str, bool]
    dagstorm_version: str | None = None
    #: The nightly suite the run belonged to, if any.
    suite: str | None = None

    def document(self) -> dict[str, Any]:
        """The line's JSON object."""
        return {
            "format": HISTORY_FORMAT,
            "kind": "dagstorm.history",
            "run": self.run,
            "path": self.path,
            "scenario": self.scenario,
            "started_at": self.started_at,
            "status": self.status,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "wall_s": self.wall_s,
            "measures": dict(self.measures),
            "slos": dict(self.slos),
            "dagstorm_version": self.dagstorm_version,
            "suite": self.suite,
        }


def entry_of(
    document: Mapping[str, Any], run_dir: Path, *, suite: str | None = None
) -> HistoryEntry:
    """The history entry of a run from its ``result.json`` document."""
    run = document.get("run") or {}
    verdict = document.get("verdict") or {}
    scenario = document.get("scenario") or {}
    return HistoryEntry(
        run=str(run.get("directory") or Path(run_dir).name),
        path=str(Path(run_dir).resolve()),
        scenario=str(scenario.get("name") or "unnamed"),
        started_at=str(run.get("started_at") or ""),
        status=str(run.get("status") or "unknown"),
        passed=bool(verdict.get("passed")),
        exit_code=int(verdict.get("exit_code") or 0),
        wall_s=float(run.get("wall_s") or 0.0),
        measures=headline_of(document),
        slos={str(s.get("name")): bool(s.get("passed")) for s in document.get("slos") or []},
        dagstorm_version=(document.get("analysis") or {}).get("dagstorm_version"),
        suite=suite,
    )


def default_history_path(runs_dir: Path, explicit: Path | None = None) -> Path:
    """``explicit``, else ``$DAGSTORM_HISTORY``, else ``<runs_dir>/history.jsonl``."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get(HISTORY_ENV)
    return Path(from_env) if from_env else Path(runs_dir) / HISTORY_FILE


def append_history(path: Path, entry: HistoryEntry) -> None:
    """Append ``entry`` as one line (one write, under a lock, fsync'd)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = orjson.dumps(entry.document()) + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)  # closing releases the lock


def read_history(path: Path) -> list[HistoryEntry]:
    """Every valid entry of a history file, oldest first (none if the file is absent).

    Torn or foreign lines are skipped; a line of a newer format is refused with
    a clear error rather than misread.
    """
    path = Path(path)
    if not path.is_file():
        return []
    entries: list[HistoryEntry] = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                raw = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(raw, dict) or raw.get("kind") != "dagstorm.history":
                continue
            if not isinstance(raw.get("format"), int) or raw["format"] > HISTORY_FORMAT:
                raise UsageError(
                    f"history line {number} has format {raw.get('format')!r};"
                    f" this dagstorm reads format {HISTORY_FORMAT}",
                    where=f"{path}:{number}",
                    fix="upgrade dagstorm, or point --history at another file",
                )
            entries.append(_entry(raw))
    return entries


def runs_of_scenario(
    entries: Iterable[HistoryEntry], scenario: str, *, until: str | None = None, last: int = 10
) -> list[HistoryEntry]:
    """The last ``last`` runs of ``scenario`` started at or before ``until``, oldest first.

    A run recorded twice (re-analysed) counts once, with its latest line.
    """
    latest: dict[str, HistoryEntry] = {}
    for entry in entries:
        if entry.scenario == scenario and (until is None or entry.started_at <= until):
            latest.pop(entry.path, None)
            latest[entry.path] = entry
    ordered = sorted(latest.values(), key=lambda e: e.started_at)
    return ordered[-last:] if last > 0 else []


def _entry(raw: Mapping[str, Any]) -> HistoryEntry:
    measures = raw.get("measures") if isinstance(raw.get("measures"), Mapping) else {}
    slos = raw.get("slos") if isinstance(raw.get("slos"), Mapping) else {}
    return HistoryEntry(
        run=str(raw.get("run", "")),
        path=str(raw.get("path", "")),
        scenario=str(raw.get("scenario", "")),
        started_at=str(raw.get("started_at", "")),
        status=str(raw.get("status", "")),
        passed=bool(raw.get("passed")),
        exit_code=int(raw.get("exit_code") or 0),
        wall_s=float(raw.get("wall_s") or 0.0),
        measures={
            str(k): (float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None)
            for k, v in (measures or {}).items()
        },
        slos={str(k): bool(v) for k, v in (slos or {}).items()},
        dagstorm_version=raw.get("dagstorm_version"),
        suite=raw.get("suite"),
    )
