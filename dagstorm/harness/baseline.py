"""Which earlier run ``--baseline`` names: a run directory or the newest run in a history file.

A run directory gives its ``result.json`` (analysed now when it has none); a history
file its newest completed run of the scenario. The baseline itself, its file in the
run directory and the comparison: :mod:`dagstorm.analysis.outputs.baseline`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from dagstorm.analysis.outputs.baseline import Baseline
from dagstorm.analysis.outputs.compare import Tolerance
from dagstorm.analysis.outputs.executor_compare import side_document
from dagstorm.analysis.outputs.headline import headline_of
from dagstorm.analysis.outputs.history import HistoryEntry, read_history, runs_of_scenario
from dagstorm.analysis.outputs.result import analyze, result_document
from dagstorm.core.errors import UsageError
from dagstorm.run.rundir import RunDirectory

__all__ = ["baseline_candidates", "baseline_of_document", "resolve_baseline", "run_document"]


def baseline_candidates(entries: Iterable[HistoryEntry]) -> list[HistoryEntry]:
    """The history entries a baseline may come from: completed runs only.

    An interrupted, aborted, failed-with-an-error or unfinished run measured less
    than a whole run: judged against it, a later run could pass the baseline check
    without having done as well as a real one.
    """
    return [e for e in entries if e.status == "completed"]


def resolve_baseline(source: Path, scenario: str, tolerances: Mapping[str, Tolerance]) -> Baseline:
    """The baseline named by ``source``: a run directory or a history file."""
    source = Path(source)
    if source.is_dir():
        return baseline_of_document(source, run_document(source), tolerances)
    if source.is_file():
        runs = runs_of_scenario(baseline_candidates(read_history(source)), scenario, last=1)
        if not runs:
            raise UsageError(
                f"the history has no completed run of scenario {scenario!r} to use as the baseline",
                where=str(source),
                fix="run the scenario once without --baseline, or pass a run directory",
            )
        entry = runs[-1]
        return Baseline(
            source=str(source),
            run=entry.run,
            scenario=entry.scenario,
            started_at=entry.started_at,
            measures=dict(entry.measures),
            tolerances=dict(tolerances),
        )
    raise UsageError(
        "the baseline is neither a run directory nor a history file",
        where=str(source),
        fix="pass runs/<timestamp>-<scenario> or runs/history.jsonl",
    )


def baseline_of_document(
    source: Path, document: Mapping[str, Any], tolerances: Mapping[str, Tolerance]
) -> Baseline:
    """The baseline of run directory ``source`` whose ``result.json`` is ``document``."""
    run = document.get("run") or {}
    return Baseline(
        source=str(source),
        run=str(run.get("directory") or source.name),
        scenario=str((document.get("scenario") or {}).get("name") or ""),
        started_at=str(run.get("started_at") or ""),
        measures=headline_of(document),
        tolerances=dict(tolerances),
        side=side_document(document),
    )


def run_document(run_dir: Path) -> Mapping[str, Any]:
    """``run_dir``'s ``result.json`` document (analysed now when it has none or a bad one)."""
    result_file = RunDirectory(run_dir).result
    if result_file.is_file():
        try:
            raw = orjson.loads(result_file.read_bytes())
        except orjson.JSONDecodeError:
            raw = None
        if isinstance(raw, dict) and raw.get("kind") == "dagstorm.result":
            return raw
    return result_document(analyze(run_dir))
