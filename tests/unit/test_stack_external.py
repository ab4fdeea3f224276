"""External stacks declare only what exists: config, endpoints, checks and the run's preflight."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from dagstorm.core.errors import ConfigError, ExitCode, ServiceUnreachableError
from dagstorm.engine.preflight import PartsUnreachable, check_needs, check_reachable
from dagstorm.scenarios.loader import ScenarioInvalid, load_scenario
from dagstorm.stack.check import run_checks, spark_failure
from dagstorm.stack.config import load_stack_config
from dagstorm.stack.endpoints import PartNotDeclared, Stack, resolve_stack
from dagstorm.stack.parts import Part

AIRFLOW_ONLY = "kind: external\nexternal:\n  airflow_url: http://127.0.0.1:{port}/\n"
ENV = {"DAGSTORM_AIRFLOW_USERNAME": "admin", "DAGSTORM_AIRFLOW_PASSWORD": "pw"}

TRIGGERS = """\
name: storm
duration: 1m
workloads:
  - {kind: trigger_storm, dag: my_dag, rate: 1}
slos:
  - scheduler_throughput: {min: 1}
"""

KAFKA_FAULT = """\
name: kafka-latency
duration: 1m
workloads:
  - {kind: trigger_storm, dag: my_dag, rate: 1}
faults:
  - name: slow-kafka
    at: 10s
    duration: 20s
    fault: {kind: broker, action: pause}
"""


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def airflow_only(tmp_path: Path, port: int = 8080) -> Stack:
    path = tmp_path / "ext.stack.yaml"
    path.write_text(AIRFLOW_ONLY.format(port=port))
    return resolve_stack(load_stack_config(path, env={}, cwd=tmp_path), env=ENV)


def scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def test_an_airflow_only_stack_is_valid_and_needs_no_other_credential(tmp_path: Path) -> None:
    stack = airflow_only(tmp_path)
    assert stack.parts == frozenset({"airflow"})
    assert stack.airflow_login() == ("http://127.0.0.1:8080", "admin", "pw")
    assert stack.serving_db_dsn is None and stack.kafka_bootstrap is None
    assert stack.links == ()
    with pytest.raises(PartNotDeclared) as info:
        stack.endpoint("kafka")
    assert info.value.exit_code == ExitCode.USAGE
    assert "external.kafka_bootstrap" in info.value.render()
    assert str(tmp_path / "ext.stack.yaml") in info.value.render()


def test_each_declared_part_and_only_those(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "kind: external\nexternal:\n  kafka_bootstrap: k:9092\n"
        "  toxiproxy_url: http://t:8474\n  toxiproxy_links: [kafka]\n"
        "  serving_db_dsn_env: MY_DSN\n  statsd_port: 9125\n"
    )
    stack = resolve_stack(load_stack_config(path, env={}), env={"MY_DSN": "postgresql://x"})
    assert stack.parts == frozenset({"kafka", "toxiproxy", "serving_db", "statsd"})
    assert stack.links == ("kafka",)
    assert stack.endpoint("serving_db") == "postgresql://x"
    assert stack.airflow_username is None  # no Airflow: no Airflow credentials asked for


def test_a_declared_serving_db_without_its_dsn_names_the_variable(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("kind: external\nexternal:\n  serving_db_dsn_env: MY_DSN\n")
    with pytest.raises(ConfigError, match="MY_DSN is not set"):
        resolve_stack(load_stack_config(path, env={}), env={})


def test_every_problem_of_the_external_block_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("kind: external\nexternal:\n  toxiproxy_links: [kafka]\n")
    with pytest.raises(ConfigError) as info:
        load_stack_config(path, env={})
    lines = info.value.render().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}:2:1: external: an external stack declares at least one")
    assert lines[1].startswith(f"{path}:3:3: external.toxiproxy_links: ")


def test_a_scenario_needing_an_undeclared_part_is_refused_with_its_line(tmp_path: Path) -> None:
    stack = airflow_only(tmp_path)
    loaded = load_scenario(scenario(tmp_path, KAFKA_FAULT), env={})
    with pytest.raises(ScenarioInvalid) as info:
        check_needs(loaded, stack)
    assert info.value.exit_code == ExitCode.USAGE
    lines = info.value.render().splitlines()
    source = tmp_path / "ext.stack.yaml"
    assert lines == [
        f"{tmp_path / 'scenario.yaml'}:9:19: fault 'slow-kafka' needs Kafka, which stack {source}"
        " does not declare — fix: declare `external.kafka_bootstrap` in the stack file"
        " (docs/stack.md), or remove this entry",
        f"{tmp_path / 'scenario.yaml'}:9:19: fault 'slow-kafka' needs processes dagstorm owns,"
        f" which stack {source} does not declare — fix: process faults need the embedded stack"
        " (dagstorm owns the processes); on another stack use a network fault through"
        " Toxiproxy (docs/faults.md)",
    ]


def test_a_scenario_within_the_declared_parts_passes(tmp_path: Path) -> None:
    check_needs(load_scenario(scenario(tmp_path, TRIGGERS), env={}), airflow_only(tmp_path))


def test_a_needed_part_that_does_not_answer_stops_the_run_with_exit_3(tmp_path: Path) -> None:
    stack = airflow_only(tmp_path, port=closed_port())
    loaded = load_scenario(scenario(tmp_path, TRIGGERS), env={})
    with pytest.raises(PartsUnreachable) as info:
        check_reachable(loaded, stack)
    assert info.value.exit_code == ExitCode.INFRASTRUCTURE
    (line,) = info.value.render().splitlines()
    assert "Airflow (needed by workload 'trigger-storm'): Airflow does not answer" in line
    assert "nothing was started" in line


def test_only_needed_declared_parts_are_asked(tmp_path: Path) -> None:
    asked: list[Part] = []

    def ask(stack: Stack, part: Part) -> str:
        asked.append(part)
        return "answers"

    check_reachable(
        load_scenario(scenario(tmp_path, TRIGGERS), env={}), airflow_only(tmp_path), ask
    )
    assert asked == ["airflow"]


def test_stack_check_checks_only_declared_parts_in_one_line_each(tmp_path: Path) -> None:
    results = run_checks(airflow_only(tmp_path, port=closed_port()))
    assert [(r.name, r.ok) for r in results] == [("airflow", False)]
    assert "\n" not in results[0].detail and "does not answer" in results[0].detail


def test_stack_check_names_an_unreachable_kafka_in_seconds(tmp_path: Path) -> None:
    port = closed_port()
    path = tmp_path / "s.yaml"
    path.write_text(f"kind: external\nexternal:\n  kafka_bootstrap: 127.0.0.1:{port}\n")
    (result,) = run_checks(resolve_stack(load_stack_config(path, env={}), env={}))
    assert not result.ok
    assert result.detail == f"Kafka does not answer at 127.0.0.1:{port} (Connection refused)"


def test_a_spark_failure_is_its_cause_not_the_shutdown_lines() -> None:
    log = "\n".join(
        [
            "26/12/06 18:00:00 WARN NativeCodeLoader: Unable to load native-hadoop library",
            "26/12/06 18:00:01 ERROR StandaloneSchedulerBackend: Application has been killed."
            " Reason: All masters are unresponsive! Giving up.",
            "26/12/06 18:00:02 INFO SparkContext: Successfully stopped SparkContext",
            "26/12/06 18:00:02 INFO ShutdownHookManager: Shutdown hook called",
            "26/12/06 18:00:02 INFO ShutdownHookManager: Deleting directory /tmp/spark-1",
        ]
    )
    assert spark_failure(log) == (
        "StandaloneSchedulerBackend: Application has been killed. Reason: All masters are"
        " unresponsive! Giving up."
    )


def test_unreachable_error_is_one_line_without_an_address_twice() -> None:
    from dagstorm.stack.reach import connect

    port = closed_port()
    with pytest.raises(ServiceUnreachableError) as info:
        connect("spark", f"spark://127.0.0.1:{port}", 7077)
    assert info.value.render() == f"Spark does not answer at 127.0.0.1:{port} (Connection refused)"


def test_a_declared_dags_folder_is_a_part_and_stack_check_checks_it(tmp_path: Path) -> None:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "a.py").write_text("# airflow dag\n")
    path = tmp_path / "ext.stack.yaml"
    path.write_text(AIRFLOW_ONLY.format(port=closed_port()) + f"  dags_folder: {folder}\n")
    stack = resolve_stack(load_stack_config(path, env={}, cwd=tmp_path), env=ENV)
    assert stack.parts == frozenset({"airflow", "dag_files"})
    assert stack.dags_folder == folder
    results = {r.name: r for r in run_checks(stack)}
    assert results["dags-folder"].ok and "1 Python files" in results["dags-folder"].detail
    (folder / "a.py").unlink()
    folder.rmdir()
    results = {r.name: r for r in run_checks(stack)}
    assert not results["dags-folder"].ok and "not a directory" in results["dags-folder"].detail
