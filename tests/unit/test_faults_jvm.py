"""The jvm fault without a JVM: its spec, its rule text, how it finds its targets."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from dagstorm.core.boot_clock import started_since_boot
from dagstorm.core.errors import FaultError
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.jvm import targets
from dagstorm.faults.jvm.agent import AgentClient
from dagstorm.faults.jvm.fault import JvmRuleFault
from dagstorm.faults.jvm.rules import CHUNKS, build_rule, split_method
from dagstorm.faults.kinds import build_fault, parse_fault_spec
from dagstorm.faults.specs import TASK_START, JvmFault, SparkFault
from dagstorm.scenarios.loader import ScenarioInvalid, load_scenario
from dagstorm.stack.embedded import byteman
from dagstorm.stack.endpoints import Stack

SCENARIO = """\
name: jvm
description: the pipeline's own executor OOMs
duration: 10m
seed: 7
phases:
  - {name: all, duration: 10m}
faults:
  - at: 2m
    duration: 1m
    fault: {kind: jvm, action: FAULT_ACTION, app: "ad_logs_hourly-*"FAULT_EXTRA}
slos:
  - lost_events: 0
"""


def _scenario(tmp_path: Path, action: str, extra: str = "") -> Path:
    path = tmp_path / "s.yaml"
    text = SCENARIO.replace("FAULT_ACTION", action).replace("FAULT_EXTRA", extra)
    path.write_text(text)
    return path


# -- spec ---------------------------------------------------------------------------------


def test_a_memory_stress_needs_only_the_app(tmp_path: Path) -> None:
    loaded = load_scenario(_scenario(tmp_path, "memory_stress"), env={}, pipeline=False)
    spec = loaded.scenario.faults[0].fault
    assert isinstance(spec, JvmFault)
    assert spec.rule_method() == TASK_START
    assert spec.describe() == "jvm memory stress (executor of ad_logs_hourly-*)"


def test_a_latency_without_method_or_delay_is_refused_at_its_line(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "latency")
    with pytest.raises(ScenarioInvalid) as info:
        load_scenario(path, env={}, pipeline=False)
    problems = info.value.problems
    text = " ".join(p.what for p in problems)
    assert "needs a method" in text and "latency_ms > 0" in text
    assert all(p.where.startswith(f"{path}:10:") for p in problems)


@pytest.mark.parametrize(
    ("extra", "word"),
    [
        (', method: "a.B.run", message: "x\\" + y"', "message"),
        (", method: run", "method"),
        (", method: a.B.run, exception: 'java.lang.Error(\"x\")'", "exception"),
        (", method: a.B.run, jvm: host", "jvm"),
    ],
)
def test_nothing_a_rule_could_be_broken_out_of_is_accepted(
    tmp_path: Path, extra: str, word: str
) -> None:
    with pytest.raises(ScenarioInvalid) as info:
        load_scenario(_scenario(tmp_path, "exception", extra), env={}, pipeline=False)
    assert any(word in p.what for p in info.value.problems)


def test_a_spec_survives_the_journal_round_trip() -> None:
    spec = JvmFault(action="latency", app="a-*", method="a.B.run", latency_ms=50, jvm="all")
    assert parse_fault_spec(spec.model_dump(mode="json")) == spec
    oom = JvmFault(action="memory_stress", app="a-*")
    assert parse_fault_spec(oom.model_dump(mode="json")) == oom


def test_executor_oom_is_cluster_pressure_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        SCENARIO.replace(
            'fault: {kind: jvm, action: FAULT_ACTION, app: "ad_logs_hourly-*"FAULT_EXTRA}',
            "fault: {kind: spark, action: executor_oom}",
        )
    )
    loaded = load_scenario(path, env={}, pipeline=False)
    assert [w.where for w in loaded.warnings] == [f"{path}:10:34"]
    assert "cluster_pressure" in loaded.warnings[0].fix
    assert SparkFault(action="cluster_pressure").deprecation() is None


# -- rules --------------------------------------------------------------------------------


def test_memory_stress_fills_the_heap_in_held_chunks_at_task_start() -> None:
    rule = build_rule("f1", JvmFault(action="memory_stress", app="x"))
    lines = rule.text.splitlines()
    assert rule.name == "dagstorm f1 memory_stress"
    assert lines[:6] == [
        "RULE dagstorm f1 memory_stress",
        "CLASS org.apache.spark.scheduler.Task",
        "METHOD run",
        "AT ENTRY",
        "BIND rt:java.lang.Runtime = java.lang.Runtime.getRuntime()",
        "IF TRUE",
    ]
    assert lines[-2:] == ['   throw new java.lang.OutOfMemoryError("Java heap space")', "ENDRULE"]
    assert rule.text.count("? new byte[") == CHUNKS
    assert rule.text.count('link("dagstorm-f1"') == CHUNKS


def test_each_action_writes_its_body() -> None:
    exc = JvmFault(
        action="exception",
        app="x",
        method="org.apache.spark.storage.ShuffleBlockFetcherIterator.next",
        exception="java.io.IOException",
        message="fetch failed",
    )
    text = build_rule("f2", exc).text
    assert "CLASS org.apache.spark.storage.ShuffleBlockFetcherIterator\nMETHOD next\n" in text
    assert 'throw new java.io.IOException("fetch failed (f2)")' in text
    latency = JvmFault(action="latency", app="x", method="a.B.c", latency_ms=250)
    assert "delay(250)" in build_rule("f3", latency).text
    gc = JvmFault(action="gc_pressure", app="x", gc_count=2)
    assert build_rule("f4", gc).text.count("System.gc()") == 2
    driver = JvmFault(action="gc_pressure", app="x", jvm="driver")
    assert "CLASS org.apache.spark.scheduler.DAGScheduler\nMETHOD submitJob" in (
        build_rule("f5", driver).text
    )
    with pytest.raises(ValueError, match="memory_stress is for executors"):
        JvmFault(action="memory_stress", app="x", jvm="driver")


def test_nested_classes_keep_their_dollar() -> None:
    assert split_method("a.B$Inner.run") == ("a.B$Inner", "run")


# -- targets ------------------------------------------------------------------------------

MASTER = {
    "status": "ALIVE",
    "activeapps": [
        {"id": "app-1", "name": "ad_logs_hourly-light-2026-01-01T03", "state": "RUNNING"},
        {"id": "app-2", "name": "dagstorm-oom-abc", "state": "RUNNING"},
        {"id": "app-3", "name": "ad_logs_hourly-heavy-2026-01-01T04", "state": "WAITING"},
    ],
}
JAR = "/state/byteman/byteman.jar"
EXECUTOR = [
    "/state/spark/java/bin/java",
    "-cp",
    "x",
    f"-javaagent:{JAR}=boot:{JAR},listener:true,address:127.0.0.1,port:29123",
    "org.apache.spark.executor.CoarseGrainedExecutorBackend",
    "--driver-url",
    "spark://CoarseGrainedScheduler@127.0.0.1:41234",
    "--executor-id",
    "3",
    "--hostname",
    "127.0.0.1",
    "--cores",
    "1",
    "--app-id",
    "app-1",
]


def test_the_apps_are_the_running_ones_matching_the_glob() -> None:
    apps = targets.apps_of(MASTER)
    assert [a.app_id for a in targets.matching(apps, "ad_logs_hourly-*")] == ["app-1", "app-3"]
    assert targets.matching(apps, "ad_logs_hourly-light-*")[0].app_id == "app-1"
    assert targets.apps_of({"activeapps": [{"id": "x", "state": "FINISHED"}]}) == []


def test_an_executor_names_its_app_and_its_driver() -> None:
    assert targets.executor_of(EXECUTOR) == ("app-1", "3", 41234)
    assert targets.loads_agent(EXECUTOR, JAR)
    assert not targets.loads_agent(EXECUTOR, "/other/byteman.jar")
    submit = ["java", "org.apache.spark.deploy.SparkSubmit", "--name", "ad_logs_hourly-light-x"]
    assert targets.executor_of(submit) is None
    assert targets.submitted_name(submit) == "ad_logs_hourly-light-x"


def test_the_agent_port_is_the_loopback_listener_in_range() -> None:
    listening = [("127.0.0.1", 41234), ("::ffff:127.0.0.1", 29400), ("0.0.0.0", 29500)]
    assert targets.agent_port(listening) == 29400
    assert targets.agent_port([("127.0.0.1", 4040)]) is None


def test_only_heap_oom_exits_are_evidence() -> None:
    executors = [
        {"id": "driver", "isActive": True},
        {"id": "0", "isActive": False, "removeReason": "Command exited with code 52"},
        {"id": "1", "isActive": False, "removeReason": "Command exited with code 137"},
        {"id": "2", "isActive": True},
    ]
    assert [e["id"] for e in targets.oom_exits(executors)] == ["0"]


# -- the launcher -------------------------------------------------------------------------


def test_the_launcher_gives_each_jvm_a_port_in_range_and_passes_others_unchanged(
    tmp_path: Path,
) -> None:
    fake_home = tmp_path / "jdk"
    (fake_home / "bin").mkdir(parents=True)
    fake_java = fake_home / "bin" / "java"
    fake_java.write_text('#!/bin/sh\necho "$$"\nfor a in "$@"; do echo "$a"; done\n')
    fake_java.chmod(0o755)
    home = byteman.write_java_home(tmp_path / "spark-java", fake_home)
    option = byteman.agent_option(Path(JAR))
    out = subprocess.run(
        [str(home / "bin" / "java"), "-Xmx1g", option, "Main"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.splitlines()
    pid, args = int(out[0]), out[1:]
    port = int(args[1].rsplit("port:", 1)[1])
    assert port in byteman.AGENT_PORTS
    first, count = byteman.AGENT_PORTS.start, len(byteman.AGENT_PORTS)
    assert (port - first - pid % count) % count < 20  # from the pid's port, the next free
    assert args[0] == "-Xmx1g" and args[2] == "Main"
    plain = subprocess.run(
        [str(home / "bin" / "java"), "-version", "a b"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.splitlines()
    assert plain[1:] == ["-version", "a b"]


def test_the_spark_conf_loads_the_agent_in_drivers_and_executors() -> None:
    lines = byteman.spark_conf_lines(Path(JAR))
    assert any(line.startswith("spark.driver.extraJavaOptions") for line in lines)
    assert any(line.startswith("spark.executor.extraJavaOptions") for line in lines)
    assert all("address:127.0.0.1" in line for line in lines if "javaagent" in line)


def test_the_recipe_names_both_jars() -> None:
    recipes = Path(__file__).resolve().parents[2] / "stack"
    assert byteman.artifacts(recipes) == [
        "org.jboss.byteman:byteman:4.0.25",
        "org.jboss.byteman:byteman-submit:4.0.25",
    ]


# -- the agent protocol -------------------------------------------------------------------


class _FakeAgent:
    """Speaks the listener's protocol on a free loopback port: one command a connection."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.requests: list[str] = []
        self.loaded: set[str] = set()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn, conn.makefile("r") as lines:
                command = lines.readline().strip()
                body: list[str] = []
                if command in ("LOAD", "DELETE"):
                    end = "ENDLOAD" if command == "LOAD" else "ENDDELETE"
                    for line in lines:
                        if line.strip() == end:
                            break
                        body.append(line.rstrip("\n"))
                self.requests.append("\n".join([command, *body]))
                names = [b[5:] for b in body if b.startswith("RULE ")]
                if command == "LOAD":
                    self.loaded.update(names)
                    answer = "".join(f"install rule {n}\n" for n in names)
                elif command == "DELETE":
                    self.loaded.difference_update(names)
                    answer = "".join(f"uninstall RULE {n}\n" for n in names)
                elif command == "LIST":
                    answer = "".join(f"# File x line 1\nRULE {n}\n" for n in sorted(self.loaded))
                else:
                    answer = "4.0.25\n"
                conn.sendall((answer + "OK\n").encode())

    def close(self) -> None:
        self.server.close()


def test_the_client_loads_lists_and_deletes_rules() -> None:
    agent = _FakeAgent()
    try:
        client = AgentClient(agent.port)
        rule = build_rule("f9", JvmFault(action="latency", app="x", method="a.B.c", latency_ms=5))
        assert client.version() == "4.0.25"
        client.load(rule.name, rule.text)
        assert client.rules() == ["dagstorm f9 latency"]
        assert agent.requests[1].startswith("LOAD\nSCRIPT dagstorm f9 latency\nRULE dagstorm f9")
        client.delete([rule.name])
        assert client.rules() == []
    finally:
        agent.close()


def test_a_closed_port_is_a_fault_error_naming_the_agent() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    with pytest.raises(FaultError, match="does not answer"):
        AgentClient(port, timeout=2).version()


# -- the fault ----------------------------------------------------------------------------


def _external_stack() -> Stack:
    return Stack(
        kind="external",
        airflow_url="http://127.0.0.1:1",
        airflow_username=None,
        airflow_password=None,
        spark_master_url="spark://127.0.0.1:3",
        spark_ui_url="http://127.0.0.1:4",
        spark_history_url=None,
        kafka_bootstrap="127.0.0.1:2",
        toxiproxy_url=None,
        serving_db_dsn=None,
        components=("spark-worker",),
    )


def test_a_stack_without_the_agent_on_this_host_is_refused(tmp_path: Path) -> None:
    ctx = FaultContext(stack=_external_stack(), journal=FaultJournal(tmp_path / "j.jsonl"))
    fault = build_fault(JvmFault(action="memory_stress", app="x"), "f1", ctx)
    with pytest.raises(FaultError, match="loopback only") as info:
        fault.check_targets()
    assert "docs/faults.md" in (info.value.fix or "")


def test_revert_deletes_the_rule_in_recorded_jvms_still_running(tmp_path: Path) -> None:
    agent = _FakeAgent()
    try:
        ctx = FaultContext(stack=_external_stack(), journal=FaultJournal(tmp_path / "j.jsonl"))
        spec = JvmFault(action="gc_pressure", app="x")
        fault = JvmRuleFault(spec, "f7", ctx)
        AgentClient(agent.port).load(fault.rule.name, fault.rule.text)
        me = started_since_boot(os.getpid())
        assert me is not None
        for pid, started, port in (
            (os.getpid(), me, agent.port),  # "running": its rule goes
            (os.getpid(), me - 100, 1),  # an earlier process of that pid: skipped
        ):
            jvm = targets.TargetJvm(pid, started, "executor", "app-1", "0", port)
            fault._record(jvm)
        fault.record_path.write_text(fault.record_path.read_text() + '{"pid": 1, "tor')
        # A new fault object (as `dagstorm recover` builds one) reverts from the record.
        JvmRuleFault(spec, "f7", ctx).revert()
        assert agent.loaded == set()
        assert sum(r.startswith("DELETE") for r in agent.requests) == 1
    finally:
        agent.close()


def _embedded_fault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: JvmFault
) -> JvmRuleFault:
    """A fault whose master and host are fakes: apps from a /json/ answer, JVMs given."""
    from dagstorm.core.progress import Progress
    from dagstorm.stack.config import StackConfig
    from dagstorm.stack.embedded.context import StackContext

    embedded = StackContext(config=StackConfig(state_dir=tmp_path), progress=Progress(quiet=True))
    ctx = FaultContext(
        stack=_external_stack(), journal=FaultJournal(tmp_path / "j.jsonl"), embedded=embedded
    )
    monkeypatch.setattr(targets, "running_apps", lambda url: targets.apps_of(MASTER))
    return JvmRuleFault(spec, "f8", ctx)


def test_the_rule_goes_to_the_matching_apps_jvms_recorded_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = _FakeAgent()
    try:
        seen: list[tuple[list[str], frozenset[str]]] = []

        def jvms(apps: list[targets.SparkApp], jar: str, roles: frozenset[str]) -> list[Any]:
            seen.append(([a.app_id for a in apps], roles))
            return [targets.TargetJvm(os.getpid(), 1.0, "executor", "app-1", "0", agent.port)]

        monkeypatch.setattr(targets, "find_jvms", jvms)
        spec = JvmFault(action="memory_stress", app="ad_logs_hourly-light-*")
        fault = _embedded_fault(tmp_path, monkeypatch, spec)
        assert fault.scan() == 1
        assert fault.scan() == 0  # a JVM gets the rule once
        assert seen[0] == (["app-1"], frozenset({"executor"}))
        assert [e["port"] for e in fault.recorded()] == [agent.port]
        assert agent.loaded == {"dagstorm f8 memory_stress"}
    finally:
        agent.close()


def test_jvms_without_the_agent_are_refused_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagstorm.faults.jvm import watching

    monkeypatch.setattr(watching, "WAIT_S", 0.2)
    monkeypatch.setattr(watching, "POLL_S", 0.05)
    monkeypatch.setattr(
        targets,
        "find_jvms",
        lambda apps, jar, roles: [targets.TargetJvm(1, 1.0, "executor", "app-1", "0", None)],
    )
    fault = _embedded_fault(tmp_path, monkeypatch, JvmFault(action="memory_stress", app="ad_*"))
    with pytest.raises(FaultError, match="no Byteman agent listening") as info:
        fault.inject()
    assert "dagstorm stack install" in (info.value.fix or "")
    assert fault.recorded() == []


def test_an_oom_counts_only_in_an_executor_this_fault_loaded_its_rule_into(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An earlier fault's exit 52 (executor 0) is not this one's evidence; its executor 1 is."""
    from dagstorm.faults.jvm import watching

    agent = _FakeAgent()
    try:
        monkeypatch.setattr(watching, "WAIT_S", 0.3)
        monkeypatch.setattr(
            targets,
            "find_jvms",
            lambda apps, jar, roles: [
                targets.TargetJvm(os.getpid(), 1.0, "executor", "app-1", "1", agent.port)
            ],
        )
        lost_0 = {"id": "0", "isActive": False, "removeReason": "Command exited with code 52"}
        lost_1 = {"id": "1", "isActive": False, "removeReason": "Command exited with code 52"}
        answers = [[lost_0], [lost_0, lost_1]]
        monkeypatch.setattr(targets, "rest_executors", lambda bases, app_id: answers[0])
        fault = _embedded_fault(tmp_path, monkeypatch, JvmFault(action="memory_stress", app="ad_*"))
        monkeypatch.setattr(fault, "_rest_bases_of", lambda app_id: ["http://127.0.0.1:9"])
        assert fault.scan() == 1
        with pytest.raises(FaultError, match=r"no executor .* lost with exit code 52"):
            fault.verify()
        answers.pop(0)
        assert fault.verify() == "executor 1 of app-1 lost: Command exited with code 52"
    finally:
        agent.close()
