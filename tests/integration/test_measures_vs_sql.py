"""dagstorm's scheduler measures on a run with a scheduler kill, against Airflow's own rows.

One short scenario on the real stack: a REST trigger storm of ``scheduler_bench_000``
and a SIGKILL of the scheduler (restarted after 20 s). The storm asks for its own
run ids, so the runs it asked for are known from the journal's ``dag_triggered``
events alone — not from what the probe saw. Airflow's metadata database
(``task_instance`` + ``task_instance_history``) then gives, independently, every try
of the DAG started and finished per wall minute of the run (a leftover run of an
earlier test on the same DAG is the scheduler's work too), the tries that ended
without ever starting, and the queued→running delays; dagstorm's ``result.json``
must agree exactly.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dagstorm.analysis.measures.percentiles import Percentiles
from dagstorm.analysis.measures.scheduler.throughput import FINISHED, NEVER_RAN
from dagstorm.analysis.rundata.load import load_run
from dagstorm.run.journal import read_journal
from dagstorm.stack.embedded.components.postgres import AIRFLOW_DB, Postgres
from dagstorm.stack.embedded.context import StackContext

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAG = "scheduler_bench_000"
SCENARIO = f"""
name: measures-vs-sql
description: a short trigger storm with a scheduler kill, cross-checked with SQL
duration: 2m20s
seed: 3
time_compression: 30
workloads:
  - kind: trigger_storm
    name: storm
    dag: {DAG}
    rate: 1.5
    max_total: 150
    duration: 1m50s
faults:
  - name: scheduler-kill
    at: 1m05s
    duration: 20s
    fault: {{kind: airflow, action: kill, component: scheduler}}
slos:
  - scheduler_throughput: {{min: 1}}
  - trigger_errors: {{max: 150}}
  - tries_never_started: {{max: 1000}}
probes:
  airflow_dags: [{DAG}]
drain: 1m
"""

_TRIES_SQL = """
SELECT try_number, state, queued_dttm, start_date, end_date, run_id, task_id
  FROM task_instance WHERE dag_id = %(dag)s
UNION ALL
SELECT try_number, state, queued_dttm, start_date, end_date, run_id, task_id
  FROM task_instance_history WHERE dag_id = %(dag)s
"""


def _skipped_tries(rows: list[Any]) -> list[tuple[str, str, int, datetime | None]]:
    """(run_id, task_id, try, next try's queued time) of each try number with no row.

    Airflow keeps a task instance's current try and a history row of each earlier
    try that ran; a try failed while still queued leaves no row of its own, only its
    number, skipped between the rows that are there.
    """
    by_instance: dict[tuple[str, str], dict[int, datetime | None]] = {}
    for try_number, _state, queued, _start, _end, run_id, task_id in rows:
        if try_number >= 1:
            by_instance.setdefault((run_id, task_id), {})[try_number] = queued
    skipped = []
    for (run_id, task_id), tries in by_instance.items():
        for missing in sorted(set(range(1, max(tries))) - set(tries)):
            after = tries[min(n for n in tries if n > missing)]
            skipped.append((run_id, task_id, missing, after))
    return skipped


def _minute(moment: datetime, origin: float) -> int:
    return math.floor((moment.timestamp() - origin) / 60.0)


def test_throughput_never_started_and_delays_agree_with_sql(
    stack_context: StackContext, tmp_path: Path
) -> None:
    scenario = tmp_path / "measures-vs-sql.yaml"
    scenario.write_text(SCENARIO)
    runs = tmp_path / "runs"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "dagstorm", "--state-dir", str(stack_context.layout.root)),
            *("run", str(scenario), "--runs-dir", str(runs)),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    (run_dir,) = [p for p in runs.iterdir() if p.is_dir()]
    result = json.loads((run_dir / "result.json").read_text())
    data = load_run(run_dir)
    asked = [
        str(e["run_id"])
        for e in read_journal(run_dir / "journal.jsonl")
        if e["kind"] == "dag_triggered" and e.get("run_id")
    ]
    assert len(asked) > 50 and all(r.startswith("dagstorm__") for r in asked)

    origin = data.origin_wall
    begin, until = (datetime.fromtimestamp(t, UTC) for t in (origin, origin + data.end_t))
    with Postgres(stack_context).connect(AIRFLOW_DB) as conn:
        rows = conn.execute(_TRIES_SQL, {"dag": DAG}).fetchall()

    def during(moment: datetime | None) -> bool:
        return moment is not None and begin <= moment <= until

    ran = [r for r in rows if r[1] not in NEVER_RAN]
    started = [r for r in ran if during(r[3])]
    finished = [r for r in ran if r[1] in FINISHED and r[3] is not None and during(r[4])]
    never_started = [r for r in rows if r[1] in FINISHED and r[3] is None and during(r[4])]
    skipped = [s for s in _skipped_tries(rows) if during(s[3])]
    delays = Percentiles.of((r[3] - r[2]).total_seconds() for r in started if r[2] is not None)

    throughput = result["measures"]["throughput"]
    minutes = throughput["minutes"]
    sql_started = Counter(_minute(r[3], origin) for r in started)
    sql_finished = Counter(_minute(r[4], origin) for r in finished)
    side_by_side = [
        (
            m["minute"],
            m["started"],
            sql_started[m["minute"]],
            m["finished"],
            sql_finished[m["minute"]],
        )
        for m in minutes
    ]
    lost = result["measures"]["tries_never_started"]
    print("minute, started (dagstorm, SQL), finished (dagstorm, SQL):", side_by_side)
    print(
        f"tries started {throughput['tries_started']} vs {len(started)}; finished"
        f" {throughput['tries_finished']} vs {len(finished)}; never started"
        f" {lost['count']} vs {len(never_started)} + {len(skipped)} with no row"
        f" (dagstorm: {lost['unrecorded']} unrecorded); queued→running p50"
        f" {throughput['task_queue_delay_s']['p50']} vs {delays.p50}, p95"
        f" {throughput['task_queue_delay_s']['p95']} vs {delays.p95}"
    )
    mine = data.task_tries
    seen = {
        (r.run_id, r.task_id, int(r.try_number), r.state)
        for r in mine[mine["start_date_t"].notna()].itertuples()
    }
    unseen = sorted({(r[5], r[6], r[0], r[1]) for r in finished} - seen)
    tried = {(r.run_id, r.task_id, int(r.try_number)) for r in mine.itertuples()}
    unstarted = sorted({(r[5], r[6], r[0]) for r in started} - tried)
    assert [(m, a) for m, a, _, _, _ in side_by_side] == [
        (m, b) for m, _, b, _, _ in side_by_side
    ], f"started in Airflow, unseen by dagstorm: {unstarted[:10]}"
    assert [(m, a) for m, _, _, a, _ in side_by_side] == [
        (m, b) for m, _, _, _, b in side_by_side
    ], f"finished in Airflow, not seen so by dagstorm: {unseen[:10]}"
    assert throughput["tries_started"] == len(started) > 0
    assert throughput["tries_finished"] == len(finished) > 0
    # A try the probe saw queued and then up_for_retry, without a start, has no row
    # in Airflow either once the next try took its place: Airflow's skipped numbers
    # hold dagstorm's unrecorded tries and those.
    assert lost["count"] == len(never_started) + len(skipped)
    assert lost["unrecorded"] <= len(skipped)
    for name in ("count", "p50", "p95"):
        assert throughput["task_queue_delay_s"][name] == pytest.approx(
            getattr(delays, name), abs=1e-6
        ), name
    # The scheduler kill is a fault window with its throughput story next to run recovery.
    (fault,) = result["measures"]["recovery"][0]["faults"]
    assert fault["fault"].startswith("airflow") and fault["reverted"]
    assert fault["throughput_baseline_per_min"] is not None
    assert fault["worst_minute_finished"] is not None
    triggers = result["measures"]["trigger_errors"]
    assert triggers["triggers"] == len(asked)
