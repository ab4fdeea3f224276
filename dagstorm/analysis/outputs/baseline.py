"""``--baseline``: judge a run against an earlier one as one more SLO-like check.

``dagstorm run --baseline RUN_DIR_OR_HISTORY`` resolves the baseline before the
run starts (a run directory's ``result.json``, or the newest run of the same
scenario in a history file: :mod:`dagstorm.harness.baseline`) and writes it, with
the tolerances, as ``baseline.json`` into the new run directory. The analysis then adds a check
named ``baseline`` to the verdict: it fails when a headline measure regressed
beyond its tolerance. Since the baseline lives in the run directory,
``dagstorm analyze`` recomputes the same verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from dagstorm.analysis.outputs.compare import (
    Comparison,
    Tolerance,
    compare_measures,
    parse_tolerance,
)
from dagstorm.analysis.outputs.headline import HEADLINES, headline_of
from dagstorm.analysis.texts import plural
from dagstorm.core.atomic import atomic_write
from dagstorm.core.errors import UsageError
from dagstorm.run.rundir import RunDirectory

__all__ = [
    "BASELINE_CHECK",
    "BASELINE_FILE",
    "Baseline",
    "baseline_comparison",
    "read_baseline",
    "write_baseline",
]

BASELINE_FILE = RunDirectory.BASELINE
BASELINE_FORMAT = 1
#: The name of the check in result.json and junit.xml.
BASELINE_CHECK = "baseline"


@dataclass(frozen=True)
class Baseline:
    """The run a new run is judged against, and the tolerances."""

    source: str
    run: str
    scenario: str
    started_at: str
    measures: Mapping[str, float | None]
    tolerances: Mapping[str, Tolerance]
    #: The baseline run's executor and the measures the side-by-side comparison reads
    #: (``executor_compare.side_document``); None for a baseline from a history file.
    side: Mapping[str, Any] | None = None

    def document(self) -> dict[str, Any]:
        """``baseline.json``'s content."""
        return {
            "format": BASELINE_FORMAT,
            "kind": "dagstorm.baseline",
            "source": self.source,
            "run": self.run,
            "scenario": self.scenario,
            "started_at": self.started_at,
            "measures": dict(self.measures),
            "tolerances": {k: t.text for k, t in self.tolerances.items()},
            **({"side_by_side": dict(self.side)} if self.side is not None else {}),
        }


def write_baseline(run_dir: Path, baseline: Baseline) -> Path:
    """Write ``baseline.json`` into ``run_dir``."""
    body = orjson.dumps(baseline.document(), option=orjson.OPT_INDENT_2) + b"\n"
    return atomic_write(RunDirectory(Path(run_dir)).baseline, body)


def read_baseline(run_dir: Path) -> Baseline | None:
    """The run's ``baseline.json`` (None when the run had no baseline)."""
    path = RunDirectory(Path(run_dir)).baseline
    if not path.is_file():
        return None
    try:
        raw = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise UsageError(
            f"{BASELINE_FILE} is not valid JSON: {exc}", where=str(path), fix="delete it"
        ) from None
    if not isinstance(raw, dict) or raw.get("kind") != "dagstorm.baseline":
        raise UsageError(f"not a {BASELINE_FILE}", where=str(path), fix="delete it")
    tolerances = {s.name: parse_tolerance(s.tolerance) for s in HEADLINES}
    for name, text in (raw.get("tolerances") or {}).items():
        tolerances[str(name)] = parse_tolerance(str(text), where=str(path))
    measures = raw.get("measures") or {}
    side = raw.get("side_by_side")
    return Baseline(
        source=str(raw.get("source", "")),
        run=str(raw.get("run", "")),
        scenario=str(raw.get("scenario", "")),
        started_at=str(raw.get("started_at", "")),
        measures={
            str(k): float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
            for k, v in measures.items()
        },
        tolerances=tolerances,
        side=side if isinstance(side, dict) else None,
    )


def baseline_comparison(baseline: Baseline, document: Mapping[str, Any]) -> Comparison:
    """The run of ``document`` (its ``result.json``) against the baseline."""
    return compare_measures(baseline.measures, headline_of(document), baseline.tolerances)


def regression_text(comparison: Comparison) -> str:
    """``no regression`` or ``2 regressions: …``."""
    regressions = comparison.regressions
    if not regressions:
        return "no regression beyond tolerance"
    return f"{plural(len(regressions), 'regression')}: " + "; ".join(
        f"{r.spec.name} {r.note}" for r in regressions
    )
