"""The report's tables: exact numbers from the analysis result (never downsampled)."""

from __future__ import annotations

from collections.abc import Sequence

from dagstorm.analysis.measures.data.completeness import CountsRow
from dagstorm.analysis.measures.faults.recovery import FaultRecovery
from dagstorm.analysis.measures.percentiles import Percentiles
from dagstorm.analysis.outputs.result import Result
from dagstorm.analysis.texts import number_text, percent_text
from dagstorm.core.durations import duration_text
from dagstorm.reports.markup import Child, Markup, el, join

__all__ = [
    "completeness_table",
    "cross_dag_table",
    "html_table",
    "output_checks_table",
    "recovery_table",
    "sla_misses_table",
    "slo_table",
]


def html_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Child]],
    *,
    numeric: Sequence[int] = (),
    titles: Sequence[str | None] = (),
) -> Markup:
    """A ``<table>``; cells are escaped unless trusted; ``numeric`` columns align right.

    ``titles``: a hover text per header (what the column measures), None for none.
    """
    hover = [*titles, *[None] * len(headers)][: len(headers)]
    head = el(
        "thead", el("tr", *(el("th", h, title=t) for h, t in zip(headers, hover, strict=True)))
    )
    body = el(
        "tbody",
        *(
            el(
                "tr",
                *(el("td", c, class_="num" if i in numeric else None) for i, c in enumerate(r)),
            )
            for r in rows
        ),
    )
    return el("table", head, body)


def _count(value: int | None) -> str:
    return "not measured" if value is None else f"{value:,}"


def _pass(passed: bool, measured: bool) -> Markup:
    if passed:
        return el("span", "PASS", class_="badge pass")
    return el("span", "FAIL" if measured else "NOT MEASURED", class_="badge fail")


def slo_table(result: Result) -> Markup:
    """Each SLO: verdict, measured value vs target, weight and the detail."""
    if not result.verdict.slos:
        return el(
            "p",
            "The scenario declares no SLO: the run is judged on its findings only"
            " (its status, and whether each fault was reverted and recovered from).",
            class_="not-measured",
        )
    rows = [
        [
            _pass(v.passed, v.measured),
            el("code", v.name),
            v.value_text,
            el("span", v.target, class_="nowrap"),
            f"{v.weight:g}",
            el("span", v.detail, class_="detail"),
        ]
        for v in result.verdict.slos
    ]
    return html_table(["", "SLO", "measured", "target", "weight", "detail"], rows, numeric=[4])


def sla_misses_table(result: Result) -> Markup:
    """Runs that missed the SLA (and those excluded), by how much, per SLA SLO."""
    if not result.measures.sla:
        return el("p", "not measured: the scenario declares no sla SLO", class_="not-measured")
    parts: list[Markup] = []
    for m in result.measures.sla:
        summary = (
            f"{m.dag_id}: {m.runs} runs, {m.met} met, {m.missed} missed, {m.excluded} excluded; "
            f"compliance {percent_text(m.compliance)}; deadline {duration_text(m.within_sim_s)} "
            f"sim ({duration_text(m.within_wall_s)} wall), from {m.measure_from}"
        )
        parts.append(el("p", summary))
        rows: list[list[Child]] = [
            [
                el("code", r.run_id),
                r.state,
                r.reason,
                duration_text(r.elapsed_sim_s),
                duration_text(r.over_by_sim_s),
                duration_text(r.over_by_wall_s),
            ]
            for r in (*m.misses, *m.excluded_runs)
        ]
        if rows:
            parts.append(
                html_table(
                    ["run", "state", "why", "elapsed (sim)", "over by (sim)", "over by (wall)"],
                    rows,
                    numeric=[3, 4, 5],
                )
            )
        elif m.runs:
            parts.append(el("p", "No run missed the SLA."))
    return join(parts)


def _throughput_text(f: FaultRecovery) -> str:
    """Baseline → worst minute (drop), and the time back to 90% of the baseline."""
    if f.throughput_baseline_per_min is None:
        return "not measured: no minute before the fault"
    worst = (
        f"worst minute {f.worst_minute} {f.worst_minute_finished}"
        f" ({percent_text(f.throughput_drop)} drop)"
        if f.worst_minute is not None
        else "no complete minute"
    )
    back = (
        f"back to ≥90% {duration_text(f.throughput_recovery_wall_s)} wall after the revert"
        if f.throughput_recovered
        else "never back to ≥90%"
    )
    return f"baseline {number_text(f.throughput_baseline_per_min)}/min; {worst}; {back}"


def _delays_cell(f: FaultRecovery) -> str:
    """``6.1s`` or ``6.1s – 20.3s (3)``: the waits before this window's retries."""
    delays = f.retry_delays_wall_s
    if not delays:
        return "n/a"
    if len(delays) == 1:
        return duration_text(delays[0])
    return f"{duration_text(min(delays))} – {duration_text(max(delays))} ({len(delays)})"


def _stages_text(f: FaultRecovery) -> str:
    """``load 4 / 3; queueing 1 / 0``: failed / retried tries per stage of the pipeline."""
    if not f.stages:
        return "none"
    return "; ".join(f"{s.stage} {s.failed} / {s.retried}" for s in f.stages)


def recovery_table(result: Result) -> Markup:
    """Per fault window: recovery time, retries consumed, failed runs, alert latency."""
    if not result.measures.recovery:
        return el("p", "not measured: no fault window", class_="not-measured")
    overall = result.measures.recovery[0]
    parts: list[Markup] = []
    if not overall.faults:
        parts.append(
            el("p", "not measured: no fault was applied in this run", class_="not-measured")
        )
    else:
        rows: list[list[Child]] = []
        for f in overall.faults:
            latency = f.alerts.latency_wall_s
            rows.append(
                [
                    el("span", f.fault, class_="detail"),
                    el("code", f.fault_id),
                    f"{duration_text(f.start_t)} – {duration_text(f.end_t)}"
                    + ("" if f.reverted else " (not reverted)"),
                    _recovery_cell(f),
                    duration_text(f.task_recovery_sim_s) + " sim",
                    _throughput_text(f),
                    str(f.retries),
                    _delays_cell(f),
                    _stages_text(f),
                    str(f.runs_retried),
                    str(len(f.failed_runs)),
                    f"{f.alerts.alerted} of {f.alerts.failures}",
                    f"p50 {duration_text(latency.p50)}, max {duration_text(latency.max)}"
                    if latency.count
                    else "n/a",
                ]
            )
        parts.append(
            html_table(
                [
                    "fault",
                    "id",
                    "window (wall)",
                    "recovery (first successful run)",
                    "task recovery",
                    "throughput (finished tries/min)",
                    "retries",
                    "wait before a retry (wall)",
                    "tries failed / retried, by stage",
                    "runs retried",
                    "failed runs",
                    "failures alerted",
                    "alert latency (wall)",
                ],
                rows,
                numeric=[6, 9, 10],
            )
        )
    for error in overall.fault_errors:
        parts.append(
            el(
                "p",
                f"fault error: {error.fault} [{error.fault_id}] at "
                f"{duration_text(error.t)}: {error.error}",
                class_="warn",
            )
        )
    alerts = result.measures.alerts
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(alerts.alerts_by_kind.items())) or "none"
    parts.append(
        el(
            "p",
            f"Whole run: {alerts.failures} task failures, {alerts.alerted} alerted; "
            f"alert latency p95 {duration_text(alerts.latency_wall_s.p95)} wall; "
            f"alerts received by kind: {kinds}.",
        )
    )
    return join(parts)


def _recovery_text(sim_s: float, wall_s: float) -> str:
    return f"{duration_text(sim_s)} sim / {duration_text(wall_s)} wall"


def _recovery_cell(f: FaultRecovery) -> str:
    """The recovery, or "no visible impact" when the fault cost no retry and no run."""
    if not f.recovered:
        return "never"
    if f.retries == 0 and not f.failed_runs:
        return "no visible impact (0 retries, 0 failed runs); next success after " + _recovery_text(
            f.recovery_sim_s, f.recovery_wall_s
        )
    return _recovery_text(f.recovery_sim_s, f.recovery_wall_s)


def completeness_table(result: Result, *, stream: bool = False) -> Markup:
    """Generated / acked / expected / loaded / lost / duplicated per hour, and the total.

    ``stream``: the Kafka path (the Kafka ledger vs ``ad_events_stats``) instead of
    the landing path.
    """
    c = result.measures.stream_completeness if stream else result.measures.completeness
    if c is None:
        return el("p", "not measured: the run had no Kafka workload", class_="not-measured")
    if not c.measured or c.total is None:
        return el("p", f"not measured: {c.reason or 'no completeness data'}", class_="not-measured")
    rows = [_counts(row) for row in c.per_hour]
    rows.append([el("strong", "total"), *_counts(c.total)[1:]])
    table = html_table(
        [
            "hour (event time, UTC)",
            "generated (valid + late events)",
            "acked",
            "expected",
            "loaded",
            "lost",
            "duplicated",
        ],
        rows,
        numeric=[1, 2, 3, 4, 5, 6],
    )
    notes = [
        f"Expected = {c.basis} (what a correct pipeline loads). Counts are the ledger's valid"
        " and late events of the partitions judged; bad lines and duplicates are counted"
        " apart (below), so the generated-load table, which counts every line written, differs."
    ]
    if c.unfinished_partitions:
        notes.append(
            f"{c.unfinished_partitions} unfinished partitions "
            f"({c.unfinished_partition_events:,} events) left out."
        )
    if c.in_flight_partitions:
        unit = "signals" if stream else "partitions"
        notes.append(
            f"{c.in_flight_partitions} {unit} in flight at the end "
            f"({c.in_flight_partition_events:,} events) left out."
        )
    if c.ignored_serving_rows:
        notes.append(f"{c.ignored_serving_rows} serving rows outside the run's hours ignored.")
    bad = c.bad_records
    if bad.injected is not None:
        notes.append(
            f"Bad records injected: {bad.injected:,}; quarantined: {_count(bad.quarantined)}."
        )
    return join([table, el("p", " ".join(notes), class_="note")])


def _counts(row: CountsRow) -> list[Child]:
    return [
        row.key,
        _count(row.generated),
        "n/a" if row.acked is None else f"{row.acked:,}",
        _count(row.expected),
        _count(row.loaded),
        el("span", _count(row.lost), class_="bad" if row.lost else None),
        el("span", _count(row.duplicated), class_="bad" if row.duplicated else None),
    ]


_BASIS = {
    "ids": "ids known: duplicated = rows − distinct ids, lost = expected − distinct ids",
    "counts": "counts only: a surplus can hide a loss",
    "lag": "a consumer group's lag at the end: lost",
}


def output_checks_table(result: Result) -> Markup:
    """The pipeline profile's count checks: found vs expected, lost, duplicated, and the basis."""
    checks = result.measures.output_checks
    rows: list[list[Child]] = [
        [
            m.name,
            m.kind,
            _count(m.found),
            _count(m.distinct_ids) if m.distinct_ids is not None else "n/a",
            _count(m.expected) if m.expected is not None else "n/a",
            el("span", _count(m.lost), class_="bad" if m.lost else None),
            el("span", _count(m.duplicated), class_="bad" if m.duplicated else None),
            _BASIS.get(m.basis or "", f"not measured: {m.reason}"),
        ]
        for m in checks
    ]
    headers = ["check", "kind", "found", "distinct ids", "expected", "lost", "duplicated", "basis"]
    return html_table(headers, rows, numeric=[2, 3, 4, 5, 6])


def _spread(p: Percentiles) -> str:
    """``p50 / p95 / max`` of some waits, or ``n/a`` when none was measured."""
    if not p.count:
        return "n/a"
    return " / ".join(duration_text(v) for v in (p.p50, p.p95, p.max))


def cross_dag_table(result: Result) -> Markup:
    """How long downstream runs waited on their upstream: all runs, and those queued in a fault."""
    rows: list[list[Child]] = [
        [
            w.upstream,
            w.downstream,
            f"{w.paired:,} of {w.runs:,}",
            _spread(w.sensor_wait),
            _spread(w.start_after_upstream),
            _spread(w.sensor_wait_in_faults),
            _spread(w.start_after_upstream_in_faults),
        ]
        for w in result.measures.cross_dag.rows
    ]
    headers = [
        "upstream",
        "downstream (profile entry)",
        "runs paired",
        "sensor wait p50 / p95 / max",
        "start after upstream's end",
        "sensor wait, queued in a fault",
        "start after upstream, queued in a fault",
    ]
    return html_table(headers, rows, numeric=[2, 3, 4, 5, 6])
