"""The live verdict: each SLO green / amber / red, and the score so far.

Reuses the analysis (``dagstorm.analysis``) on the events :class:`RunState` keeps
for it, so the TUI and ``dagstorm analyze`` agree. During a run, an SLO that cannot
be measured yet is amber (pending), not red: the final verdict is the analysis's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

from dagstorm.analysis.live import failed_live
from dagstorm.analysis.load import build_run_data
from dagstorm.analysis.measures import compute_measures
from dagstorm.analysis.verdict import evaluate
from dagstorm.core.errors import DagstormError

Light = Literal["green", "amber", "red"]


@dataclass(frozen=True)
class SloLight:
    """One SLO's live state."""

    name: str
    light: Light
    value_text: str
    target: str


@dataclass(frozen=True)
class LiveVerdict:
    """Every SLO's light and the score so far (None: no SLO or nothing to judge yet)."""

    slos: tuple[SloLight, ...]
    score: float | None
    final: bool


EMPTY = LiveVerdict((), None, final=False)


def live_verdict(events: Sequence[Mapping[str, Any]], *, run_dir: Path) -> LiveVerdict:
    """Judge the SLOs on ``events`` (RunState.verdict_events()); never raises."""
    if not events:
        return EMPTY
    try:
        data = build_run_data(events, run_dir=run_dir)
        verdict = evaluate(data.scenario.slos, compute_measures(data), compression=data.compression)
    except (DagstormError, ValueError, KeyError, TypeError):
        return EMPTY
    final = data.status != "unfinished"
    if final:
        stored = stored_verdict(run_dir)
        if stored is not None:
            return stored
    lights: list[SloLight] = []
    for spec, slo in zip(data.scenario.slos, verdict.slos, strict=True):
        light: Light
        if slo.passed:
            light = "green"
        elif final or (slo.measured and failed_live(spec, data)):
            light = "red"  # certainly failed: no later event can make it pass
        else:
            light = "amber"  # failing or not measured so far, but could still pass
        text = "pending" if not slo.measured and not final else slo.value_text
        lights.append(SloLight(slo.name, light, text, slo.target))
    return LiveVerdict(tuple(lights), verdict.score, final)


def stored_verdict(run_dir: Path) -> LiveVerdict | None:
    """The final verdict from ``result.json`` (ledger and serving data included), if any."""
    try:
        document = orjson.loads((run_dir / "result.json").read_bytes())
        slos = tuple(
            SloLight(
                str(s["name"]),
                "green" if s["passed"] else "red",
                str(s.get("value_text", "")),
                str(s.get("target", "")),
            )
            for s in document["slos"]
        )
        score = document["verdict"]["score"]
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return LiveVerdict(slos, float(score) if score is not None else None, final=True)
