"""Two runs side by side by executor: throughput, queued → running, SLA, recovery.

Read from each run's ``result.json`` document (docs/trends.md): the executor is
``scenario.executor`` (``unknown`` when the run does not name one, as on an
external stack); tries finished per minute (median, peak) and a try's
queued → running delay (p50/p95/p99) from ``measures.throughput``; SLA
compliance per DAG from ``measures.sla``; recovery per fault (sim seconds) from
``measures.recovery``. ``dagstorm compare`` prints it next to the headline table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dagstorm.analysis.texts import number_text, percent_text
from dagstorm.core.durations import duration_text

__all__ = [
    "UNKNOWN_EXECUTOR",
    "ExecutorComparison",
    "SideRow",
    "executor_comparison",
    "executor_of",
    "side_document",
    "side_value_text",
]

UNKNOWN_EXECUTOR = "unknown"


@dataclass(frozen=True)
class SideRow:
    """One measure of run A and run B (None: not measured in that run)."""

    section: str
    label: str
    unit: str
    a: float | None
    b: float | None
    #: What a None value means on each side (``never recovered`` for a fault that
    #: happened in that run but never recovered).
    missing_a: str = "not measured"
    missing_b: str = "not measured"


@dataclass(frozen=True)
class ExecutorComparison:
    """Each run's executor and the measures side by side."""

    executor_a: str
    executor_b: str
    rows: tuple[SideRow, ...]

    @property
    def differ(self) -> bool:
        """The two runs ran on different executors."""
        return self.executor_a != self.executor_b

    def document(self) -> dict[str, Any]:
        """As JSON: ``{executor_a, executor_b, rows: [{section, label, unit, a, b}]}``."""
        return {
            "executor_a": self.executor_a,
            "executor_b": self.executor_b,
            "rows": [
                {
                    "section": r.section,
                    "label": r.label,
                    "unit": r.unit,
                    "a": r.a,
                    "b": r.b,
                    **({"a_missing": r.missing_a} if r.a is None else {}),
                    **({"b_missing": r.missing_b} if r.b is None else {}),
                }
                for r in self.rows
            ],
        }


def side_value_text(unit: str, value: float | None, missing: str = "not measured") -> str:
    """A side-by-side value for people: ``97.5%``, ``1m30s``, ``41.5/min``; else ``missing``."""
    if value is None:
        return missing
    if unit == "fraction":
        return percent_text(value)
    if unit == "seconds":
        return duration_text(value)
    return f"{number_text(value)}/min"


def executor_comparison(a: Mapping[str, Any], b: Mapping[str, Any]) -> ExecutorComparison:
    """Runs ``a`` and ``b`` (``result.json`` documents) side by side."""
    rows = _throughput_rows(a, b) + _sla_rows(a, b) + _recovery_rows(a, b)
    return ExecutorComparison(executor_of(a), executor_of(b), rows)


def side_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """Only what :func:`executor_comparison` reads of ``document`` (for ``baseline.json``)."""
    measures = _mapping(document.get("measures"))
    throughput = _mapping(measures.get("throughput"))
    keep = ("median_finished_per_min", "peak_finished_per_min", "task_queue_delay_s")
    fault_keys = ("fault_id", "fault", "recovered", "recovery_sim_s")
    return {
        "scenario": {"executor": _mapping(document.get("scenario")).get("executor")},
        "measures": {
            "throughput": {k: throughput[k] for k in keep if k in throughput},
            "sla": [
                {"dag_id": _mapping(i).get("dag_id"), "compliance": _mapping(i).get("compliance")}
                for i in _list(measures.get("sla"))
            ],
            "recovery": [
                {
                    "dag_id": _mapping(entry).get("dag_id"),
                    "faults": [
                        {k: _mapping(f).get(k) for k in fault_keys}
                        for f in _list(_mapping(entry).get("faults"))
                    ],
                }
                for entry in _list(measures.get("recovery"))
            ],
        },
    }


def executor_of(document: Mapping[str, Any]) -> str:
    """The executor the run names (``scenario.executor``), else ``unknown``."""
    named = _mapping(document.get("scenario")).get("executor")
    return named if isinstance(named, str) and named else UNKNOWN_EXECUTOR


def _throughput_rows(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[SideRow, ...]:
    ta, tb = _throughput(a), _throughput(b)
    qa = _mapping(ta.get("task_queue_delay_s"))
    qb = _mapping(tb.get("task_queue_delay_s"))
    section = "throughput"
    return (
        SideRow(
            section,
            "task instances finished per minute (median)",
            "per_min",
            _number(ta.get("median_finished_per_min")),
            _number(tb.get("median_finished_per_min")),
        ),
        SideRow(
            section,
            "task instances finished per minute (peak)",
            "per_min",
            _number(ta.get("peak_finished_per_min")),
            _number(tb.get("peak_finished_per_min")),
        ),
        *(
            SideRow(
                section,
                f"queued → running {p}",
                "seconds",
                _number(qa.get(p)),
                _number(qb.get(p)),
            )
            for p in ("p50", "p95", "p99")
        ),
    )


def _sla_rows(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[SideRow, ...]:
    sa, sb = _by_key(a, "sla", _sla_key), _by_key(b, "sla", _sla_key)
    return tuple(
        SideRow(
            "sla",
            f"SLA {key}",
            "fraction",
            _number(sa.get(key, {}).get("compliance")),
            _number(sb.get(key, {}).get("compliance")),
        )
        for key in _union(sa, sb)
    )


def _recovery_rows(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[SideRow, ...]:
    fa, fb = _faults(a), _faults(b)
    rows = []
    for key in _union(fa, fb):
        label = f"recovery {key} ({(fa.get(key) or fb.get(key) or {}).get('fault') or '?'})"
        in_a, in_b = fa.get(key), fb.get(key)
        rows.append(
            SideRow(
                "recovery",
                label,
                "seconds",
                _recovery(in_a),
                _recovery(in_b),
                missing_a=_missing(in_a),
                missing_b=_missing(in_b),
            )
        )
    return tuple(rows)


def _recovery(fault: Mapping[str, Any] | None) -> float | None:
    """The fault's recovery (sim seconds); None when absent or never recovered."""
    if fault is None or fault.get("recovered") is False:
        return None
    return _number(fault.get("recovery_sim_s"))


def _missing(fault: Mapping[str, Any] | None) -> str:
    """Why a fault's recovery has no value: not in that run, or never recovered."""
    return (
        "never recovered"
        if fault is not None and fault.get("recovered") is False
        else ("not measured")
    )


def _faults(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Every fault of every recovery entry, keyed ``fault_id`` (``dag: fault_id`` per DAG)."""
    out: dict[str, Mapping[str, Any]] = {}
    for entry in _list(_mapping(document.get("measures")).get("recovery")):
        dag = _mapping(entry).get("dag_id")
        for item in _list(_mapping(entry).get("faults")):
            fault = _mapping(item)
            fault_id = fault.get("fault_id")
            if isinstance(fault_id, str):
                out[f"{dag}: {fault_id}" if dag else fault_id] = fault
    return out


def _by_key(document: Mapping[str, Any], name: str, key: Any) -> dict[str, Mapping[str, Any]]:
    items = _list(_mapping(document.get("measures")).get(name))
    return {key(_mapping(i)): _mapping(i) for i in items if key(_mapping(i))}


def _sla_key(item: Mapping[str, Any]) -> str:
    dag = item.get("dag_id")
    return str(dag) if isinstance(dag, str) else ""


def _union(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """A's keys in order, then B's that A has not."""
    return [*a, *(k for k in b if k not in a)]


def _throughput(document: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(_mapping(document.get("measures")).get("throughput"))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
