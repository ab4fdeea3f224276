"""The smoke scenario end to end on the real stack, through the CLI, with its verdict.

The run happens once (module fixture); the tests then hold its headline measures
against independent sources: SQL on Airflow's metadata database (task tries, their
timings, dag-run durations) and on the serving database (loaded rows), and the
ledger's ground truth. The journal is what dagstorm's probes saw through the REST
API; the database is what Airflow recorded — they must agree.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dagstorm.analysis.measures.percentiles import Percentiles
from dagstorm.analysis.measures.scheduler.throughput import FINISHED, NEVER_RAN
from dagstorm.analysis.rundata.load import load_run
from dagstorm.analysis.rundata.model import RunData
from dagstorm.clients.toxiproxy import ToxiproxyClient
from dagstorm.run.journal import read_journal
from dagstorm.stack.embedded.components.postgres import AIRFLOW_DB, Postgres
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack
from dagstorm.workloads.sinks.ledger import expected_counts, load_ledger

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).parents[2]
TRY_KEY = ["dag_id", "run_id", "task_id", "map_index", "try_number"]
TERMINAL = {"success", "failed", "skipped", "upstream_failed", "removed"}


@dataclass(frozen=True)
class SmokeRun:
    """The finished smoke run: its directory, CLI output and exit code, its data."""

    run_dir: Path
    output: str
    returncode: int
    data: RunData
    result: dict[str, Any]

    @property
    def since(self) -> datetime:
        """Wall time of the run's start."""
        return datetime.fromtimestamp(self.data.origin_wall, UTC)

    @property
    def until(self) -> datetime:
        """Wall time of the run's end."""
        return datetime.fromtimestamp(self.data.origin_wall + self.data.end_t, UTC)

    def runs_by_dag(self, *, triggered_only: bool = False) -> dict[str, list[str]]:
        """Run ids the journal knows, per DAG."""
        frame = self.data.dag_runs
        if triggered_only:
            frame = frame[frame["triggered"]]
        out: dict[str, list[str]] = {}
        for dag_id, run_id in frame[["dag_id", "run_id"]].itertuples(index=False):
            out.setdefault(str(dag_id), []).append(str(run_id))
        return out


@pytest.fixture(scope="module")
def smoke(stack_context: StackContext, tmp_path_factory: pytest.TempPathFactory) -> SmokeRun:
    """Run scenarios/smoke.yaml once through the CLI."""
    runs = tmp_path_factory.mktemp("smoke") / "runs"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagstorm",
            "--state-dir",
            str(stack_context.layout.root),
            "run",
            str(ROOT / "scenarios" / "smoke.yaml"),
            "--runs-dir",
            str(runs),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    (run_dir,) = [p for p in runs.iterdir() if p.is_dir()]  # runs/ also holds history.jsonl
    result = json.loads((run_dir / "result.json").read_text())
    return SmokeRun(run_dir, output, done.returncode, load_run(run_dir), result)


@pytest.fixture(scope="module")
def airflow_db(stack_context: StackContext) -> Any:
    """A read-only look at Airflow's metadata database (superuser, direct)."""
    with Postgres(stack_context).connect(AIRFLOW_DB) as conn:
        yield conn


def test_smoke_scenario_runs_end_to_end_and_passes(smoke: SmokeRun, stack: Stack) -> None:
    output, run_dir = smoke.output, smoke.run_dir
    events = read_journal(run_dir / "journal.jsonl")
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "run_start" and kinds[-1] == "run_end", output
    assert events[-1]["status"] == "completed", output
    assert kinds.count("partition_written") >= 2
    triggered = [e for e in events if e["kind"] == "dag_triggered"]
    assert triggered and all(e["ok"] for e in triggered)
    assert kinds.count("fault_applied") == kinds.count("fault_reverted") == 1
    assert "task_try" in kinds and "dag_run" in kinds
    assert stack.toxiproxy_url is not None
    with ToxiproxyClient(stack.toxiproxy_url) as client:
        assert [p.name for p in client.list_proxies() if p.toxics or not p.enabled] == []

    verdicts = {slo["name"]: slo for slo in smoke.result["slos"]}
    assert set(verdicts) == {
        "sla:ad_logs_hourly",
        "recovery_time:max",
        "lost_events",
        "duplicate_events",
    }
    assert (run_dir / "junit.xml").is_file()
    assert smoke.returncode == 0, output
    assert all(slo["passed"] for slo in verdicts.values()), verdicts


_TRIES_SQL = """
SELECT dag_id, run_id, task_id, map_index, try_number, state, queued_dttm, start_date, end_date
  FROM task_instance WHERE dag_id = %(dag)s AND run_id = ANY(%(runs)s)
UNION ALL
SELECT dag_id, run_id, task_id, map_index, try_number, state, queued_dttm, start_date, end_date
  FROM task_instance_history WHERE dag_id = %(dag)s AND run_id = ANY(%(runs)s)
"""


def _sql_tries(conn: psycopg.Connection, runs: dict[str, list[str]]) -> dict[tuple[Any, ...], Any]:
    """Every try of the runs, current (task_instance) and past (task_instance_history)."""
    tries: dict[tuple[Any, ...], Any] = {}
    for dag, run_ids in runs.items():
        for row in conn.execute(_TRIES_SQL, {"dag": dag, "runs": run_ids}):
            tries[tuple(row[:5])] = row
    return tries


def _within(row: Any, since: datetime, until: datetime) -> bool:
    """Queued, started or ended during the run: what a probe running then could see."""
    return any(x is not None and since <= x <= until for x in row[6:9])


def test_journal_tries_match_airflow_metadata_db(smoke: SmokeRun, airflow_db: Any) -> None:
    tries = _sql_tries(airflow_db, smoke.runs_by_dag())
    journal = smoke.data.task_tries
    finished = journal[journal["state"].isin(TERMINAL) & journal["start_date"].notna()]
    assert len(finished) >= 10  # two partitions x five tasks that ran, at least
    for row in finished.to_dict("records"):
        sql = tries[tuple(row[k] for k in TRY_KEY)]
        assert sql[5] == row["state"], row
        for column, value in zip(("queued_when", "start_date", "end_date"), sql[6:9], strict=True):
            seen = row[column]
            assert (value is None) == (seen is None), (row, column)
            if value is not None:
                assert datetime.fromisoformat(seen) == value, (row, column)


def test_throughput_matches_airflow_metadata_db(smoke: SmokeRun, airflow_db: Any) -> None:
    """tries started / finished and queue delays, recomputed from SQL rows."""
    since, until = smoke.since, smoke.until
    rows = [
        r
        for r in _sql_tries(airflow_db, smoke.runs_by_dag()).values()
        if r[5] not in NEVER_RAN and _within(r, since, until)
    ]
    # Started within the run: a leftover run's try that started before it began (on a
    # stack that ran something just before) is the measure's started_before_run.
    started = [r for r in rows if r[7] is not None and since <= r[7] <= until]
    # Finished within the run, whenever it started; a try failed without a start_date
    # never ran, so it never finished.
    finished = [
        r
        for r in rows
        if r[7] is not None and r[5] in FINISHED and r[8] is not None and since <= r[8] <= until
    ]
    delays = Percentiles.of((r[7] - r[6]).total_seconds() for r in started if r[6] is not None)
    measured = smoke.result["measures"]["throughput"]
    assert measured["tries_started"] == len(started) > 0
    assert measured["tries_finished"] == len(finished) > 0
    for name in ("count", "p50", "p95", "max"):
        assert measured["task_queue_delay_s"][name] == pytest.approx(
            getattr(delays, name), abs=1e-6
        ), name


def test_sla_matches_airflow_metadata_db(smoke: SmokeRun, airflow_db: Any) -> None:
    """Runs met within the SLA (from queued_at), recomputed from ``dag_run`` rows."""
    (sla,) = smoke.result["measures"]["sla"]
    run_ids = smoke.runs_by_dag(triggered_only=True)[sla["dag_id"]]
    rows = airflow_db.execute(
        "SELECT state, queued_at, end_date FROM dag_run WHERE dag_id = %s AND run_id = ANY(%s)",
        (sla["dag_id"], run_ids),
    ).fetchall()
    assert len(rows) == len(run_ids) == sla["runs"]
    met = sum(
        state == "success" and (end - queued).total_seconds() <= sla["within_wall_s"] + 1e-6
        for state, queued, end in rows
    )
    assert met == sla["met"]
    assert sla["compliance"] == pytest.approx(met / len(rows))


def test_loaded_rows_match_ledger_and_serving_db(smoke: SmokeRun, stack: Stack) -> None:
    """Serving rows by run id (SQL) == the ledger's expected counts == completeness."""
    expected = expected_counts(load_ledger(smoke.run_dir), "written")
    run_ids = smoke.runs_by_dag(triggered_only=True)["ad_logs_hourly"]
    with psycopg.connect(stack.endpoint("serving_db"), connect_timeout=5) as conn:
        loaded = conn.execute(
            "SELECT coalesce(sum(impressions), 0), coalesce(sum(clicks), 0),"
            " coalesce(sum(conversions), 0), count(DISTINCT (hour, campaign_id, ad_id))"
            " FROM ad_stats_hourly WHERE run_id = ANY(%s)",
            (run_ids,),
        ).fetchone()
    assert loaded is not None
    impressions, clicks, conversions, cells = loaded
    assert (impressions, clicks, conversions) == (
        int(expected["impressions"].sum()),
        int(expected["clicks"].sum()),
        int(expected["conversions"].sum()),
    )
    assert cells == len(expected)
    total = smoke.result["measures"]["completeness"]["total"]
    assert total["loaded"] == impressions + clicks + conversions == total["expected"] > 0
