# mypy: disable-error-code="import-untyped"
"""Read a run directory into typed frames, one per event kind the measures use.

Times: every journal event has ``t`` (wall seconds since the run started). Times
that come from other systems (Airflow's ``queued_at``, ``start_date``, …, an
alert's ``received_at``) are converted to the same axis: ``<field>_t`` = epoch
seconds − the run's origin (the ``wall`` of ``run_start`` minus its ``t``).
Simulated seconds are always ``t × time_compression``.

:func:`load_run` reads the files; :func:`build_run_data` does the rest from a
list of events and is what tests use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from dagstorm.analysis.rundata.declared import read_workloads
from dagstorm.analysis.rundata.frames import (
    event_frame,
    last_state,
    samples_frame,
    statsd_frame,
    with_times,
    workload_stats_frame,
)
from dagstorm.analysis.rundata.journal_scan import JournalScan, scan_journal
from dagstorm.analysis.rundata.model import (
    CELERY_QUEUE_FIELDS,
    CELERY_WORKER_TASKS_FIELDS,
    CELERY_WORKERS_FIELDS,
    TRIGGER_FIELDS,
    RunData,
    RunDirectoryError,
)
from dagstorm.analysis.rundata.pipeline import read_pipeline
from dagstorm.analysis.rundata.scenario_info import number, scenario_info, text_or_none, texts
from dagstorm.analysis.rundata.signal_cuts import read_signal_cuts
from dagstorm.core.progress import Progress
from dagstorm.run.events import FAULT_EVENT_KINDS, Kind
from dagstorm.run.rundir import RunDirectory
from dagstorm.workloads.kinds import WorkloadSpec
from dagstorm.workloads.sinks.ledger import load_ledger

JOURNAL = RunDirectory.JOURNAL
LEDGER = RunDirectory.LEDGER
SERVING = RunDirectory.SERVING
#: Optional: the pipeline's per-partition load records (``ad_partition_loads``).
PARTITION_LOADS = RunDirectory.PARTITION_LOADS
#: The stream path: the Kafka workload's ledger, and what ``ad_events_stream`` served.
STREAM_LEDGER = f"{LEDGER}/{RunDirectory.KAFKA_LEDGER}"
STREAM_SERVING = RunDirectory.STREAM_SERVING
#: The ``ad_events_batches`` rows of the run's signals: which signals were served.
STREAM_BATCHES = RunDirectory.STREAM_BATCHES

SERVING_COLUMNS = ("campaign_id", "ad_id", "hour", "impressions", "clicks", "conversions")

DAG_RUN_FIELDS = (
    "dag_id",
    "run_id",
    "state",
    "run_type",
    "queued_at",
    "start_date",
    "end_date",
    "logical_date",
    "conf",
    "dag_versions",
)
DAG_RUN_TIMES = ("queued_at", "start_date", "end_date", "logical_date")
DAG_RUN_KEY = ["dag_id", "run_id"]

TASK_TRY_FIELDS = (
    "dag_id",
    "run_id",
    "task_id",
    "map_index",
    "try_number",
    "state",
    "queued_when",
    "start_date",
    "end_date",
    "duration",
    "pool",
    "hostname",
)
TASK_TRY_TIMES = ("queued_when", "start_date", "end_date")
TASK_TRY_KEY = ["dag_id", "run_id", "task_id", "map_index", "try_number"]

FAULT_FIELDS = ("fault_id", "fault", "took_s", "error")
ALERT_FIELDS = (
    "alert_kind",
    "dag_id",
    "task_id",
    "run_id",
    "try_number",
    "exception_class",
    "time",
    "received_at",
)
PARTITION_FIELDS = ("workload", "dt", "hour", "records", "valid")


def journal_of(run_dir: Path) -> Path:
    """``run_dir``'s journal; a :class:`RunDirectoryError` when it is not a run directory.

    The one check every reader of a run directory makes first (``analyze``,
    ``report``, ``watch``), so they all refuse a wrong directory the same way.
    """
    if not Path(run_dir).is_dir():
        what = "a file" if Path(run_dir).exists() else "no such directory"
        raise RunDirectoryError(
            f"{what}: not a run directory",
            where=str(run_dir),
            fix="pass a run directory (runs/<timestamp>-<scenario>/)",
        )
    journal = RunDirectory(Path(run_dir)).journal
    if not journal.is_file():
        raise RunDirectoryError(
            f"no {JOURNAL} in the directory: not a run directory",
            where=str(run_dir),
            fix="pass a run directory (runs/<timestamp>-<scenario>/)",
        )
    return journal


def load_run(run_dir: Path, *, progress: Progress | None = None) -> RunData:
    """Read ``run_dir`` (journal, ledger, serving data) into :class:`RunData`.

    ``progress`` shows the journal's bytes read of its size, then building the
    run data as a step (default: nothing shown).
    """
    run_dir = Path(run_dir)
    journal = journal_of(run_dir)
    progress = progress or Progress(quiet=True)
    with progress.meter("read the journal", journal.stat().st_size) as update:
        scan = scan_journal(journal, on_read=update)
    with progress.step("build the run data"):
        return _load_rest(run_dir, scan)


def _load_rest(run_dir: Path, scan: JournalScan) -> RunData:
    """:func:`load_run` once the journal is scanned: the other files, then :class:`RunData`."""
    run = RunDirectory(run_dir)
    absent: dict[str, str] = {}
    ledger = _read_ledger(run.ledger, LEDGER, absent)
    serving = _read_parquet(run.serving, SERVING_COLUMNS, "serving", absent)
    loads = _read_parquet(run.partition_loads, ("hour",), "partition_loads", absent)
    workloads, why = read_workloads(run_dir)
    if why is not None:
        absent["scenario"] = why
    data = build_run_data(
        [],
        run_dir=run_dir,
        ledger=ledger,
        serving=serving,
        partition_loads=loads,
        absent=absent,
        journal=scan,
        workloads=workloads,
    )
    data = replace(data, pipeline=read_pipeline(run_dir))
    kafka_ledger = run.kafka_ledger
    if not kafka_ledger.is_dir():
        return data
    stream_ledger = _read_ledger(kafka_ledger, STREAM_LEDGER, absent, "stream_ledger")
    stream = _read_parquet(run.stream_serving, SERVING_COLUMNS, "stream_serving", absent)
    batches = _read_parquet(run.stream_batches, ("signal_id",), "stream_batches", absent)
    try:
        cuts = read_signal_cuts(kafka_ledger)
    except (FileNotFoundError, OSError, ValueError) as exc:
        absent["stream_cuts"] = f"signal ledgers unreadable: {exc}"
        cuts = ()
    served = None if batches is None else frozenset(batches["signal_id"].astype(str))
    return replace(
        data,
        stream_ledger=stream_ledger,
        stream_serving=stream,
        stream_cuts=cuts,
        stream_served=served,
        absent=absent,
    )


def _read_ledger(
    directory: Path, sub: str, absent: dict[str, str], name: str = "ledger"
) -> pd.DataFrame | None:
    """The ledger in ``directory`` (``sub`` in the run directory), or None and why."""
    if not directory.is_dir():
        absent[name] = f"no {sub}/ in the run directory"
        return None
    try:
        return load_ledger(directory)
    except (FileNotFoundError, OSError, ValueError) as exc:
        absent[name] = f"{sub}/ unreadable: {exc}"
        return None


def _read_parquet(
    path: Path, required: Sequence[str], name: str, absent: dict[str, str]
) -> pd.DataFrame | None:
    if not path.is_file():
        absent[name] = f"no {path.name} in the run directory"
        return None
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        absent[name] = f"{path.name} unreadable: {exc}"
        return None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        absent[name] = f"{path.name} lacks column(s) {', '.join(missing)}"
        return None
    return frame


def build_run_data(
    events: Sequence[Mapping[str, Any]],
    *,
    run_dir: Path,
    ledger: pd.DataFrame | None = None,
    serving: pd.DataFrame | None = None,
    partition_loads: pd.DataFrame | None = None,
    absent: Mapping[str, str] | None = None,
    journal: JournalScan | None = None,
    workloads: Sequence[WorkloadSpec] = (),
) -> RunData:
    """:class:`RunData` from journal events (in any order; ``seq`` orders them).

    With ``journal`` (a :func:`scan_journal`), its events are used too, and its
    periodic samples come from its frames instead of dicts. ``workloads`` are the
    scenario's (``scenario.yaml``; ``run_start`` does not carry them).
    """
    where = str(RunDirectory(Path(run_dir)).journal)
    if journal is not None:
        events = [*journal.events, *events]
    ordered = sorted(events, key=lambda e: (number(e.get("seq")), number(e.get("t"))))
    start = next((e for e in ordered if e.get("kind") == Kind.RUN_START), None)
    if start is None:
        raise RunDirectoryError(
            "the journal has no run_start event",
            where=where,
            fix="the run never started; there is nothing to analyse",
        )
    scenario = scenario_info(start, where)
    origin = number(start.get("wall")) - number(start.get("t"))
    end = next((e for e in reversed(ordered) if e.get("kind") == Kind.RUN_END), None)
    if end is not None:
        # The end of what the probes observed, where the run says (older journals: its end).
        observed = end.get("observed_until")
        end_t = number(observed if observed is not None else end.get("t"))
    else:
        end_t = max(number(e.get("t")) for e in ordered)
        if journal is not None:
            end_t = max(end_t, journal.max_t())
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for event in ordered:
        by_kind.setdefault(str(event.get("kind")), []).append(event)

    def kinds(*names: str) -> list[Mapping[str, Any]]:
        return [e for name in names for e in by_kind.get(name, [])]

    dag_runs = last_state(kinds(Kind.DAG_RUN), DAG_RUN_FIELDS, DAG_RUN_KEY)
    dag_runs = with_times(dag_runs, DAG_RUN_TIMES, origin)
    dag_runs["partition_hour"] = [
        str(c["partition_hour"]) if isinstance(c, Mapping) and c.get("partition_hour") else None
        for c in dag_runs["conf"]
    ]
    # A run dagstorm asked for is dagstorm's, even when its trigger errored (a timeout
    # after Airflow created it): its trigger named the run id. So is a run that consumed
    # one of dagstorm's asset events (``asset_runs``; an asset-triggered run id is the
    # same for every DAG on the asset, hence the pairs).
    triggered = {
        (str(e.get("dag_id")), str(e.get("run_id")))
        for e in kinds(Kind.DAG_TRIGGERED)
        if e.get("run_id")
    }
    triggered |= {
        (str(run[0]), str(run[1]))
        for e in kinds(Kind.ASSET_RUNS)
        for run in e.get("runs") or []
        if len(run) == 2
    }
    dag_runs["triggered"] = [
        (str(dag_id), str(run_id)) in triggered
        for dag_id, run_id in zip(dag_runs["dag_id"], dag_runs["run_id"], strict=True)
    ]
    task_tries = last_state(kinds(Kind.TASK_TRY), TASK_TRY_FIELDS, TASK_TRY_KEY)
    task_tries = with_times(task_tries, TASK_TRY_TIMES, origin)
    faults = event_frame(
        sorted(kinds(*FAULT_EVENT_KINDS), key=lambda e: number(e.get("seq"))), FAULT_FIELDS
    )
    alerts = event_frame(kinds(Kind.ALERT), ALERT_FIELDS)
    alerts["received_t"] = alerts["received_at"] - origin
    return RunData(
        run_dir=Path(run_dir),
        scenario=scenario,
        origin_wall=origin,
        end_t=end_t,
        status=str(end.get("status", "completed")) if end is not None else "unfinished",
        reason=(text_or_none(end.get("reason")) or None) if end is not None else None,
        end_fault_errors=texts(end.get("fault_errors")) if end is not None else (),
        events=len(ordered) + (journal.total - len(journal.events) if journal else 0),
        dag_runs=dag_runs,
        task_tries=task_tries,
        faults=faults,
        alerts=alerts,
        statsd=statsd_frame(kinds(Kind.STATSD), journal),
        partitions=event_frame(kinds(Kind.PARTITION_WRITTEN), PARTITION_FIELDS),
        workload_stats=workload_stats_frame(kinds(Kind.WORKLOAD_STATS), journal),
        workloads=tuple(workloads),
        triggers=event_frame(kinds(Kind.DAG_TRIGGERED), TRIGGER_FIELDS),
        celery_queue=samples_frame(
            Kind.CELERY_QUEUE, CELERY_QUEUE_FIELDS, kinds(Kind.CELERY_QUEUE), journal
        ),
        celery_workers=samples_frame(
            Kind.CELERY_WORKERS, CELERY_WORKERS_FIELDS, kinds(Kind.CELERY_WORKERS), journal
        ),
        celery_worker_tasks=samples_frame(
            Kind.CELERY_WORKER_TASKS,
            CELERY_WORKER_TASKS_FIELDS,
            kinds(Kind.CELERY_WORKER_TASKS),
            journal,
        ),
        events_by_kind={kind: tuple(listed) for kind, listed in by_kind.items()},
        ledger=ledger,
        serving=serving,
        partition_loads=partition_loads,
        absent=dict(absent or {}),
        journal=journal,
    )


def iso_at(origin_wall: float, t: float) -> str:
    """The UTC ISO-8601 time (milliseconds) of wall second ``t`` of the run."""
    stamp = pd.Timestamp(round((origin_wall + t) * 1000), unit="ms", tz="UTC")
    return str(stamp.strftime("%Y-%m-%dT%H:%M:%S.")) + f"{stamp.microsecond // 1000:03d}Z"
