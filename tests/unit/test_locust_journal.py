"""The Locust workload from a scenario, and what it journals from the stats file (no Locust)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from dagstorm.analysis.rundata.load import load_run
from dagstorm.plugin.context import RunContext
from dagstorm.run.clock import FakeClock
from dagstorm.run.events import DagRun, RunEnd, RunStart
from dagstorm.run.journal import RunJournal
from dagstorm.scenarios.loader import LoadedScenario, load_scenario
from dagstorm.stack.endpoints import Stack
from dagstorm.workloads.locust_swarm.spec import LocustWorkload
from dagstorm.workloads.locust_swarm.stats_journal import StatsJournaler
from dagstorm.workloads.locust_swarm.stats_lines import (
    EndLine,
    StatsTail,
    TriggeredLine,
    WindowLine,
)
from dagstorm.workloads.locust_swarm.workload import LocustSwarm

if TYPE_CHECKING:
    from dagstorm.stack.endpoints import Stack


def _events(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_stats_lines_become_workload_stats_and_dag_triggered_events(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "journal.jsonl"
    lines = [
        WindowLine(worker=0, second=50, requests=1, records=1, acked=1, latency_ms={80: 1}),
        WindowLine(worker=1, second=50, requests=1, records=1, failed=1, latency_ms={300: 1}),
        TriggeredLine(worker=0, dag_id="d", run_id="manual__1", ok=True, status=200, conf={"x": 1}),
        TriggeredLine(worker=1, dag_id="d", ok=False, status=409, error="already exists"),
        EndLine(complete=True, reason="max_requests", requests=2),
    ]
    (tmp_path / "stats.jsonl").write_text("".join(x.model_dump_json() + "\n" for x in lines))
    with RunJournal(path, clock) as journal:
        journaler = StatsJournaler(journal, "people", "trigger")
        journaler.consume(StatsTail(tmp_path / "stats.jsonl").read())
        assert not [e for e in _events(path) if e["kind"] == "workload_stats"]  # held
        journaler.flush_all()
    events = _events(path)
    triggered = [e for e in events if e["kind"] == "dag_triggered"]
    assert [(e["run_id"], e["ok"], e["status"]) for e in triggered] == [
        ("manual__1", True, 200),
        (None, False, 409),
    ]
    assert triggered[0]["workload"] == "people" and triggered[0]["conf"] == {"x": 1}
    assert triggered[1]["error"] == "already exists"
    (stats,) = [e for e in events if e["kind"] == "workload_stats"]
    assert stats["workload_kind"] == "locust" and stats["user"] == "trigger"
    assert (stats["records"], stats["acked"], stats["failed"], stats["workers"]) == (2, 1, 1, 2)
    assert (stats["p50_ms"], stats["p99_ms"], stats["second"]) == (80.0, 300.0, 50)
    assert journaler.end == EndLine(complete=True, reason="max_requests", requests=2)
    assert journaler.totals == {"requests": 2, "records": 2, "acked": 1, "failed": 1}


def test_the_analysis_counts_runs_the_locust_users_triggered(tmp_path: Path) -> None:
    clock = FakeClock()
    run_dir = tmp_path / "run-dir"
    run_dir.mkdir()
    (tmp_path / "stats.jsonl").write_text(
        TriggeredLine(worker=0, dag_id="d", run_id="r1", ok=True, status=200).model_dump_json()
        + "\n"
    )
    with RunJournal(run_dir / "journal.jsonl", clock) as journal:
        journal.emit(
            RunStart(
                scenario="s",
                seed=0,
                time_compression=1.0,
                duration_s=10.0,
                stack_kind="external",
                dagstorm_version="test",
                phases=[],
                slos=[],
                environment={},
            )
        )
        StatsJournaler(journal, "people", "trigger").consume(
            StatsTail(tmp_path / "stats.jsonl").read()
        )
        for run_id in ("r1", "scheduled__x"):
            journal.emit(DagRun(dag_id="d", run_id=run_id, state="success"))
        journal.emit(RunEnd(status="completed"))
    runs = load_run(run_dir).dag_runs.set_index("run_id")
    assert bool(runs.loc["r1", "triggered"]) is True
    assert bool(runs.loc["scheduled__x", "triggered"]) is False


def test_a_scenario_workload_becomes_a_swarm_config_without_secrets(tmp_path: Path) -> None:
    scenario = load_scenario(_scenario_file(tmp_path), env={})
    spec = scenario.scenario.workloads[0]
    assert isinstance(spec, LocustWorkload)
    stack = _stack("127.0.0.1:9", "http://127.0.0.1:8", "admin", "pw-not-in-files")
    run_dir = tmp_path / "run"
    with RunJournal(tmp_path / "journal.jsonl", FakeClock()) as journal:
        swarm = LocustSwarm.from_spec(spec, _context(tmp_path, scenario, stack, journal))
    config = swarm.config
    assert config.duration_s == 45  # 1m run, starting at 15s, no own duration
    assert (config.compression, config.seed, config.max_requests) == (10.0, 4, 9)
    assert config.airflow_url == "http://127.0.0.1:8"
    assert config.stats_path == run_dir / "locust" / "people" / "stats.jsonl"
    assert swarm.pid_dir == tmp_path / "state" / "run"
    assert swarm.marker == str(tmp_path / "state")
    assert "pw-not-in-files" not in config.model_dump_json()


def _stack(kafka: str, airflow: str, username: str, password: str) -> Stack:
    """An external stack with Kafka and Airflow (nothing listens there)."""
    return Stack(
        kind="external",
        airflow_url=airflow,
        airflow_username=username,
        airflow_password=password,
        spark_master_url=None,
        spark_ui_url=None,
        spark_history_url=None,
        kafka_bootstrap=kafka,
        toxiproxy_url=None,
        serving_db_dsn=None,
        parts=frozenset({"airflow", "kafka"}),
    )


def _context(
    tmp_path: Path, loaded: LoadedScenario, stack: Stack, journal: RunJournal
) -> RunContext:
    scenario = loaded.scenario
    return RunContext(
        clock=FakeClock(),
        journal=journal,
        stack=stack,
        run_dir=tmp_path / "run",
        state_dir=tmp_path / "state",
        seed=scenario.seed,
        compression=scenario.time_compression,
        duration_s=scenario.duration,
        scenario_path=loaded.path,
    )


def _scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nduration: 1m\nseed: 4\ntime_compression: 10\nworkloads:\n"
        "  - kind: locust\n    name: people\n    start: 15s\n    max_requests: 9\n"
        "    user: {kind: trigger, dag: d}\n"
    )
    return path


def test_pausing_a_swarm_holds_its_users_through_the_pause_file(tmp_path: Path) -> None:
    scenario = load_scenario(_scenario_file(tmp_path), env={})
    spec = scenario.scenario.workloads[0]
    assert isinstance(spec, LocustWorkload)
    stack = _stack("127.0.0.1:9", "http://127.0.0.1:8", "a", "b")
    with RunJournal(tmp_path / "journal.jsonl", FakeClock()) as journal:
        swarm = LocustSwarm.from_spec(spec, _context(tmp_path, scenario, stack, journal))
    pause_file = swarm.config.pause_path
    assert LocustSwarm.pausable
    assert pause_file == tmp_path / "run" / "locust" / "people" / "paused"
    assert not pause_file.exists()
    swarm.pause()
    assert (swarm.paused, pause_file.exists()) == (True, True)  # no narrowing: resume() flips it
    swarm.resume()
    assert not swarm.paused and not pause_file.exists()
