"""Headline measures: the few numbers of a run that trends and comparisons follow.

They are read from ``result.json``'s document (not from the journal), so a run
analysed once can be compared with any later run without re-reading its journal.
Each measure says which direction is better and its default regression tolerance
(docs/trends.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from dagstorm.analysis.texts import number_text, percent_text, plain_number
from dagstorm.core.durations import duration_text

__all__ = ["HEADLINES", "HeadlineSpec", "headline_of", "headline_spec", "value_text"]


@dataclass(frozen=True)
class HeadlineSpec:
    """One headline measure: its name, how to show it, which way is better."""

    name: str
    label: str
    unit: Literal["fraction", "seconds", "count", "per_min", "score", "ratio", "bytes_per_s"]
    better: Literal["higher", "lower"]
    #: The default tolerance, as written on the command line (``0.02``, ``25%``).
    tolerance: str


HEADLINES: tuple[HeadlineSpec, ...] = (
    HeadlineSpec("sla_compliance", "SLA compliance (lowest DAG)", "fraction", "higher", "0.02"),
    HeadlineSpec("recovery_p95_sim_s", "recovery time p95 (sim)", "seconds", "lower", "25%"),
    HeadlineSpec("unrecovered_faults", "faults never recovered", "count", "lower", "0"),
    HeadlineSpec("throughput_per_min", "scheduler throughput (median)", "per_min", "higher", "10%"),
    HeadlineSpec("score", "resilience score", "score", "higher", "5"),
    HeadlineSpec("lost_events", "lost events", "count", "lower", "0"),
    HeadlineSpec("duplicate_events", "duplicate events", "count", "lower", "0"),
    HeadlineSpec(
        "generated_vs_target", "generated vs target (lowest workload)", "ratio", "higher", "10%"
    ),
    HeadlineSpec(
        "ramp_sustained_sim_bytes_per_s",
        "ramp: highest sustained rate (sim)",
        "bytes_per_s",
        "higher",
        "10%",
    ),
    HeadlineSpec("ramp_headroom", "ramp: headroom vs target", "ratio", "higher", "10%"),
    # A breakpoint search's answer (`dagstorm capacity`, its history line): docs/capacity.md.
    HeadlineSpec(
        "capacity_sustained_full_scale_bytes_per_s",
        "capacity search: sustained rate (full scale)",
        "bytes_per_s",
        "higher",
        "10%",
    ),
    HeadlineSpec(
        "capacity_headroom", "capacity search: headroom vs target", "ratio", "higher", "10%"
    ),
)


def headline_spec(name: str) -> HeadlineSpec | None:
    """The spec called ``name`` (None when there is none)."""
    return next((s for s in HEADLINES if s.name == name), None)


def headline_of(document: Mapping[str, Any]) -> dict[str, float | None]:
    """The headline measures of a ``result.json`` document (None: not measured)."""
    measures = _mapping(document.get("measures"))
    compliances = [_number(_mapping(m).get("compliance")) for m in _list(measures.get("sla"))]
    measured = [c for c in compliances if c is not None]
    recovery = _mapping((_list(measures.get("recovery")) or [{}])[0])
    faults = _list(recovery.get("faults"))
    completeness = _mapping(measures.get("completeness"))
    unrecovered = _number(recovery.get("unrecovered"))
    p95 = _number(recovery.get("p95_sim_s"))
    capacity = _mapping(document.get("capacity"))
    ramp = _mapping(capacity.get("ramp"))
    return {
        "sla_compliance": min(measured) if measured else None,
        # An infinite p95 (a fault never recovered) is null in result.json; the
        # unrecovered count carries it.
        "recovery_p95_sim_s": p95 if faults and not unrecovered else None,
        "unrecovered_faults": unrecovered if faults else None,
        "throughput_per_min": _number(
            _mapping(measures.get("throughput")).get("median_finished_per_min")
        ),
        "score": _number(_mapping(document.get("verdict")).get("score")),
        "lost_events": _number(completeness.get("lost_events")),
        "duplicate_events": _number(completeness.get("duplicate_events")),
        "generated_vs_target": _number(capacity.get("generated_vs_target")),
        "ramp_sustained_sim_bytes_per_s": _number(ramp.get("sustained_sim_bytes_per_s")),
        "ramp_headroom": _number(ramp.get("headroom")),
        # A search's history line carries these itself; a run's result.json has none.
        "capacity_sustained_full_scale_bytes_per_s": None,
        "capacity_headroom": None,
    }


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def value_text(spec: HeadlineSpec, value: float | None) -> str:
    """A headline value for people: ``97.5%``, ``12m30s``, ``41.5/min``, ``3``, ``1.01×``."""
    if value is None:
        return "not measured"
    match spec.unit:
        case "fraction":
            return percent_text(value)
        case "seconds":
            return duration_text(value)
        case "per_min":
            return f"{number_text(value)}/min"
        case "ratio":
            return f"{plain_number(value, 3)}×"
        case "bytes_per_s":
            return f"{plain_number(value / 1e6)} MB/s"
        case _:
            return number_text(value)
