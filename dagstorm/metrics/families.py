"""LiveMetrics' aggregates as Prometheus metric families: what ``/metrics`` exposes.

One function per domain (the run, workloads, capacity, Airflow, faults, SLOs);
:func:`metric_families` gives them all in a stable order. Metric names and help
texts are the documented ones (docs/metrics.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from dagstorm.analysis.capacity.traffic import lowest_target_ratio

if TYPE_CHECKING:
    from dagstorm.metrics.live import LiveMetrics

#: Workload counters exposed, as ``workload_stats`` fields.
WORKLOAD_COUNTS = ("records", "bytes", "acked", "failed")


def metric_families(live: LiveMetrics) -> list[Metric]:
    """Every metric family (some may have no samples yet), in a stable order."""
    start = live.start or {}
    scenario = str(start.get("scenario") or "")
    families: list[Metric] = [
        _gauge(
            "dagstorm_run_info",
            "The run being watched (value 1).",
            ("scenario", "run"),
            [((scenario, live.run_dir.name), 1)],
        ),
        GaugeMetricFamily(
            "dagstorm_run_elapsed_seconds", "Wall seconds since the run started.", live.t
        ),
        GaugeMetricFamily(
            "dagstorm_run_simulated_seconds", "Simulated seconds since the start.", live.sim
        ),
        GaugeMetricFamily(
            "dagstorm_run_finished", "1 once run_end is in the journal.", int(live.finished)
        ),
        _counter(
            "dagstorm_journal_events_total",
            "Journal events read, by kind.",
            ("kind",),
            _by_key(live.events),
        ),
    ]
    if live.phase is not None:
        families.append(
            _gauge(
                "dagstorm_phase",
                "The current phase (value 1).",
                ("phase",),
                [((live.phase,), 1)],
            )
        )
    families.extend(workload_families(live))
    families.extend(capacity_families(live))
    families.extend(airflow_families(live))
    families.extend(fault_families(live))
    components = sorted(live.cpu)
    families += [
        _gauge(
            "dagstorm_kafka_consumer_lag",
            "Consumer-group lag, messages.",
            ("topic", "group"),
            sorted(live.lag.items()),
        ),
        _gauge(
            "dagstorm_celery_queue_depth",
            "Messages waiting in a Celery queue on the broker (latest sample).",
            ("queue",),
            (((q,), d) for q, d in sorted(live.celery_queue.items())),
        ),
        _gauge(
            "dagstorm_celery_workers",
            "Celery worker processes: alive, stopped (paused), total (latest sample).",
            ("state",),
            (((s,), n) for s, n in sorted(live.celery_workers.items())),
        ),
        _gauge(
            "dagstorm_component_cpu_percent",
            "CPU of a stack component, % of one core.",
            ("component",),
            (((c,), live.cpu[c]) for c in components),
        ),
        _gauge(
            "dagstorm_component_rss_bytes",
            "Resident memory of a stack component.",
            ("component",),
            (((c,), live.rss[c]) for c in components),
        ),
        _counter(
            "dagstorm_probe_errors_total",
            "Probe errors, by probe.",
            ("probe",),
            _by_key(live.probe_errors),
        ),
    ]
    families.extend(slo_families(live))
    return families


def workload_families(live: LiveMetrics) -> list[Metric]:
    """The workloads' totals and last rates (``workload_stats``)."""
    out: list[Metric] = []
    for field in WORKLOAD_COUNTS:
        names = sorted(name for name, f in live.workload_totals if f == field)
        out.append(
            _counter(
                f"dagstorm_workload_{field}_total",
                f"Workload {field} so far (from workload_stats).",
                ("workload",),
                (((name,), live.workload_totals[(name, field)]) for name in names),
            )
        )
        out.append(
            _gauge(
                f"dagstorm_workload_{field}_per_second",
                f"Workload {field} per wall second over the last interval.",
                ("workload",),
                (((name,), live.workload_rates.get((name, field), 0.0)) for name in names),
            )
        )
    return out


def capacity_families(live: LiveMetrics) -> list[Metric]:
    """Generated traffic against the target, and the ramp's answer once the run ended."""
    rows = live.workload_capacity()
    out: list[Metric] = [
        _gauge(
            "dagstorm_capacity_wall_bytes_per_second",
            "Measured generation rate so far: bytes per wall second of active time.",
            ("workload",),
            (((w.workload,), w.wall_bytes_per_s) for w in rows),
        ),
        _gauge(
            "dagstorm_capacity_sim_bytes_per_second",
            "Generation rate in simulated time (wall rate / time compression).",
            ("workload",),
            (((w.workload,), w.sim_bytes_per_s) for w in rows),
        ),
        _gauge(
            "dagstorm_capacity_full_scale_bytes_per_second",
            "Extrapolated production-equivalent rate (sim rate / scale).",
            ("workload",),
            (
                ((w.workload,), w.full_scale_bytes_per_s)
                for w in rows
                if w.full_scale_bytes_per_s is not None
            ),
        ),
        _gauge(
            "dagstorm_capacity_target_ratio",
            "Extrapolated full-scale rate / the declared target rate.",
            ("workload",),
            (((w.workload,), w.target_ratio) for w in rows if w.target_ratio is not None),
        ),
    ]
    lowest = lowest_target_ratio(rows)
    if lowest is not None:
        out.append(
            GaugeMetricFamily(
                "dagstorm_capacity_generated_vs_target",
                "The lowest target ratio over the workloads that declare a target.",
                lowest,
            )
        )
    ramp = live.ramp()
    if ramp is None:
        return out
    figures = (
        ("sustained_step", "Highest step (1-based) within the SLA.", _step(ramp.sustained)),
        ("broke_step", "First step (1-based) that missed the SLA.", _step(ramp.broke)),
        (
            "sustained_sim_bytes_per_second",
            "Measured rate at the sustained step, simulated time.",
            ramp.sustained_sim_bytes_per_s,
        ),
        (
            "full_scale_bytes_per_second",
            "Extrapolated full-scale sustained rate (sim rate / scale).",
            ramp.full_scale_bytes_per_s,
        ),
        ("headroom", "Extrapolated full-scale sustained rate / target.", ramp.headroom),
    )
    out.extend(
        GaugeMetricFamily(f"dagstorm_capacity_ramp_{name}", help_text, value)
        for name, help_text, value in figures
        if value is not None
    )
    return out


def airflow_families(live: LiveMetrics) -> list[Metric]:
    """DAG runs and task tries by last state, and the alerts received."""
    runs = Counter((str(e.get("dag_id")), str(e.get("state"))) for e in live.dag_runs.values())
    tries = Counter(str(e.get("state")) for e in live.tries.values())
    return [
        _gauge(
            "dagstorm_dag_runs",
            "DAG runs seen, by DAG and last state.",
            ("dag_id", "state"),
            sorted(runs.items()),
        ),
        _gauge(
            "dagstorm_task_tries", "Task tries seen, by last state.", ("state",), _by_key(tries)
        ),
        _counter(
            "dagstorm_alerts_total",
            "Pipeline alerts received, by kind.",
            ("alert_kind",),
            _by_key(live.alerts),
        ),
    ]


def fault_families(live: LiveMetrics) -> list[Metric]:
    """Faults in effect and fault errors."""
    active = sum(1 for _, state in live.faults.values() if state == "active")
    return [
        GaugeMetricFamily("dagstorm_faults_active", "Faults applied and not reverted.", active),
        _gauge(
            "dagstorm_fault_active",
            "1 while the fault is applied.",
            ("fault_id", "fault"),
            (
                ((fault_id, name), int(state == "active"))
                for fault_id, (name, state) in sorted(live.faults.items())
            ),
        ),
        CounterMetricFamily(
            "dagstorm_fault_errors_total",
            "Faults that could not be applied.",
            live.fault_errors,
        ),
    ]


def slo_families(live: LiveMetrics) -> list[Metric]:
    """The SLOs' values so far and the score (none before ``run_start``)."""
    verdict = live.verdict()
    if verdict is None:
        return []
    labels = ("slo", "type")
    slos = [((v.name, v.type), v) for v in verdict.slos]
    families: list[Metric] = [
        _gauge(
            "dagstorm_slo_value",
            "The SLO's measured value so far (fraction for %, seconds for durations).",
            labels,
            ((key, v.value) for key, v in slos if v.value is not None),
        ),
        _gauge(
            "dagstorm_slo_passed",
            "1 if the SLO holds so far.",
            labels,
            ((key, int(v.passed)) for key, v in slos),
        ),
        _gauge(
            "dagstorm_slo_measured",
            "1 if the SLO could be measured yet.",
            labels,
            ((key, int(v.measured)) for key, v in slos),
        ),
    ]
    # While no SLO is measured yet the score is unknown, not 0: it is left out (a
    # dashboard shows "no data" instead of a false zero).
    if any(v.measured for v in verdict.slos):
        families.append(
            GaugeMetricFamily(
                "dagstorm_score",
                "Weighted resilience score so far, 0-100 (the weighted share of SLOs passed);"
                " absent while no SLO is measured.",
                verdict.score,
            )
        )
    return families


#: Samples of a family: label values (in the order of its label names) and the value.
Samples = Iterable[tuple[Sequence[str], float]]


def _gauge(name: str, help_text: str, labels: Sequence[str], samples: Samples) -> Metric:
    family = GaugeMetricFamily(name, help_text, labels=labels)
    for values, value in samples:
        family.add_metric(values, value)
    return family


def _counter(name: str, help_text: str, labels: Sequence[str], samples: Samples) -> Metric:
    # CounterMetricFamily drops the ``_total`` of ``name`` and the exposition adds it
    # back: the sample names are the documented ones.
    family = CounterMetricFamily(name, help_text, labels=labels)
    for values, value in samples:
        family.add_metric(values, value)
    return family


def _by_key(counts: Mapping[str, float]) -> Samples:
    """One sample per key of ``counts``, sorted, with the key as the one label value."""
    return (((key,), counts[key]) for key in sorted(counts))


def _step(index: int | None) -> float | None:
    return None if index is None else float(index + 1)
