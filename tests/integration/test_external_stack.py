"""The running embedded stack, seen as an Airflow-only external stack.

A stack file in tmp_path declares only Airflow's API URL; the credentials come
from the environment. A short trigger storm runs to a verdict against it, and a
scenario that needs Kafka is refused with exit 2 before anything starts. The
shared stack is only read and triggered: never stopped or restarted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from airflow_client.client import VariableApi
from click.testing import CliRunner

from dagstorm.cli import cli
from dagstorm.clients.airflow import api_client
from dagstorm.core.errors import ExitCode
from dagstorm.harness import run_scenario
from dagstorm.run.journal import read_journal
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack, resolve_stack

pytestmark = pytest.mark.integration

DAG = "scheduler_bench_000"

STORM = f"""\
name: external-storm
duration: 75s
time_compression: 30
workloads:
  - {{kind: trigger_storm, dag: {DAG}, rate: 0.5, max_total: 35, duration: 70s}}
slos:
  - scheduler_throughput: {{min: 1}}
  - sla: {{dag: {DAG}, within: 1h, compliance: ">= 50%"}}
probes:
  interval: 2s
  airflow_dags: [{DAG}]
drain: 45s
"""

NEEDS_KAFKA = """\
name: needs-kafka
duration: 1m
workloads:
  - {kind: kafka_burst, rate: 10 events/s, max_records: 100}
"""


@pytest.fixture(scope="module")
def shared(stack_context: StackContext) -> Stack:
    """The shared embedded stack's endpoints (up: the suite's fixture starts it once).

    Only its Airflow API is used; its processes are not asked about by the runs:
    seen as an external stack, a run's own preflight asks Airflow for a token and
    fails in one line if it does not answer.
    """
    return resolve_stack(stack_context.config)


@pytest.fixture
def airflow_only(tmp_path: Path, shared: Stack, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stack file declaring only Airflow's API URL; the credentials in the environment."""
    url, username, password = shared.airflow_login()
    path = tmp_path / "airflow-only.stack.yaml"
    path.write_text(
        f"kind: external\nstate_dir: {tmp_path / 'state'}\nexternal:\n  airflow_url: {url}\n"
    )
    secret = tmp_path / "airflow-password"
    secret.write_text(password)
    monkeypatch.setenv("DAGSTORM_AIRFLOW_USERNAME", username)
    monkeypatch.setenv("DAGSTORM_AIRFLOW_PASSWORD_FILE", str(secret))
    monkeypatch.delenv("DAGSTORM_AIRFLOW_PASSWORD", raising=False)
    monkeypatch.delenv("DAGSTORM_SERVING_DB_DSN", raising=False)
    return path


def test_stack_check_checks_airflow_alone(airflow_only: Path) -> None:
    result = CliRunner().invoke(cli, ["--stack-file", str(airflow_only), "stack", "check"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("  ")]
    assert len(lines) == 1 and lines[0].split()[:2] == ["airflow", "ok"]


def test_a_trigger_storm_runs_to_a_verdict_on_an_airflow_only_stack(
    airflow_only: Path, tmp_path: Path, shared: Stack
) -> None:
    scenario = tmp_path / "storm.yaml"
    scenario.write_text(STORM)
    with api_client(shared) as client:
        variable_before = VariableApi(client).get_variable("dagstorm_alert_sink_url").value
    report = run_scenario(scenario, stack=airflow_only, runs_dir=tmp_path / "runs")
    events = read_journal(report.run_dir / "journal.jsonl")
    start = events[0]
    assert start["kind"] == "run_start" and start["stack_kind"] == "external"
    triggered = [e for e in events if e["kind"] == "dag_triggered" and e.get("ok")]
    assert 25 <= len(triggered) <= 35
    assert {e["kind"] for e in events} >= {"dag_run", "task_try"}
    assert "statsd" not in {e["kind"] for e in events}  # not declared, so not listened for
    result = json.loads((report.run_dir / "result.json").read_text())
    assert report.status == "completed"
    assert report.exit_code in (ExitCode.OK, ExitCode.SLO_FAILED)
    slos = {slo["name"]: slo for slo in result["slos"]}
    assert set(slos) == {"scheduler_throughput", f"sla:{DAG}"}
    assert all(slo["measured"] for slo in slos.values()), slos  # a verdict, not "not measured"
    with api_client(shared) as client:  # the alert Variable is as the run found it
        variable_after = VariableApi(client).get_variable("dagstorm_alert_sink_url").value
    assert variable_after == variable_before


def test_a_scenario_needing_kafka_is_refused_before_anything_starts(
    airflow_only: Path, tmp_path: Path
) -> None:
    scenario = tmp_path / "needs-kafka.yaml"
    scenario.write_text(NEEDS_KAFKA)
    runs = tmp_path / "runs"
    result = CliRunner().invoke(
        cli, ["--stack-file", str(airflow_only), "run", str(scenario), "--runs-dir", str(runs)]
    )
    assert result.exit_code == ExitCode.USAGE, result.output
    assert (
        f"{scenario}:4:12: workload 'kafka-burst' needs Kafka, which stack {airflow_only}"
        " does not declare — fix: declare `external.kafka_bootstrap`"
    ) in result.output
    assert not runs.exists()  # no run directory: nothing was started
