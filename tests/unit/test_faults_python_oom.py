"""python_oom without Spark: its spec, the stack's daemon and config, markers, evidence, revert."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dagstorm.core.errors import FaultError
from dagstorm.core.progress import Progress
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.jvm import python_oom, targets, watching
from dagstorm.faults.jvm.python_oom import PythonWorkerOom, first_line, python_crashes
from dagstorm.faults.kinds import build_fault
from dagstorm.faults.specs import JvmFault
from dagstorm.scenarios.loader import ScenarioInvalid, load_scenario
from dagstorm.stack.config import StackConfig
from dagstorm.stack.embedded import dagstorm_pyworker, pyworker
from dagstorm.stack.embedded.components.spark import render_spark_conf, spark_env
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack

SCENARIO = """\
name: python-oom
description: the pipeline's own Python workers run out of memory
duration: 10m
seed: 7
phases:
  - {name: all, duration: 10m}
faults:
  - at: 2m
    duration: 1m
    fault: {kind: jvm, action: python_oom, app: "ad_events_stream-*"FAULT_EXTRA}
slos:
  - lost_events: 0
"""

CRASH = (
    "org.apache.spark.SparkException: Python worker exited unexpectedly (crashed). Consider "
    "setting 'spark.sql.execution.pyspark.udf.faulthandler.enabled' or'spark.python.worker."
    "faulthandler.enabled' configuration to 'true' for the better Python traceback.\n\tat org."
    "apache.spark.api.python.BasePythonRunner$ReaderIterator$$anonfun$1.applyOrElse(PythonRunner"
    ".scala:704)\nCaused by: java.io.EOFException\n"
)
#: When the first worker of the verify tests' fault died (2026-12-06T05:01:11Z).
HIT_WALL = datetime(2026, 12, 6, 5, 1, 11, tzinfo=UTC).timestamp()
#: The shape of Spark 4.2's ``stages?details=true&taskStatus=FAILED`` (trimmed, real values).
STAGES: list[dict[str, Any]] = [
    {
        "status": "FAILED",
        "stageId": 2,
        "attemptId": 0,
        "tasks": {
            "7": {
                "taskId": 7,
                "executorId": "0",
                "status": "FAILED",
                "errorMessage": CRASH,
                "launchTime": "2026-12-06T05:01:12.000GMT",
                "duration": 2500,
            },
            "8": {"taskId": 8, "executorId": "0", "status": "KILLED", "errorMessage": CRASH},
        },
    },
    {
        "status": "FAILED",
        "stageId": 1,
        "attemptId": 0,
        "tasks": {
            "3": {
                "taskId": 3,
                "executorId": "0",
                "status": "FAILED",
                "errorMessage": CRASH,
                "launchTime": "2026-12-06T05:01:10.000GMT",
                "duration": 2100,
            },
            "4": {
                "taskId": 4,
                "executorId": "0",
                "status": "FAILED",
                "errorMessage": "org.apache.spark.api.python.PythonException: MemoryError",
            },
        },
    },
    {"status": "COMPLETE", "stageId": 0, "attemptId": 0},
]
MASTER = {
    "activeapps": [
        {"id": "app-1", "name": "ad_events_stream-sig-1", "state": "RUNNING"},
        {"id": "app-2", "name": "ad_logs_hourly-light-2024-01-02T03", "state": "RUNNING"},
    ]
}


def _scenario(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.replace("FAULT_EXTRA", extra))
    return path


# -- spec ---------------------------------------------------------------------------------


def test_a_python_oom_needs_only_the_app(tmp_path: Path) -> None:
    loaded = load_scenario(_scenario(tmp_path), env={}, pipeline=False)
    spec = loaded.scenario.faults[0].fault
    assert isinstance(spec, JvmFault) and spec.action == "python_oom"
    assert spec.describe() == "python worker oom (executors of ad_events_stream-*)"
    assert spec.needs() == frozenset({"spark", "processes"})


def test_a_python_oom_with_a_method_or_on_the_driver_is_refused_at_its_line(
    tmp_path: Path,
) -> None:
    path = _scenario(tmp_path, ", method: a.B.run, jvm: driver")
    with pytest.raises(ScenarioInvalid) as info:
        load_scenario(path, env={}, pipeline=False)
    problems = info.value.problems
    text = " ".join(p.what for p in problems)
    assert "python_oom takes no method" in text and "(jvm: executor)" in text
    assert all(p.where.startswith(f"{path}:10:") for p in problems)


def test_the_kind_builds_the_python_worker_fault_for_python_oom(tmp_path: Path) -> None:
    ctx = FaultContext(stack=_stack(), journal=FaultJournal(tmp_path / "j.jsonl"))
    assert isinstance(
        build_fault(JvmFault(action="python_oom", app="x"), "f1", ctx), PythonWorkerOom
    )
    spec = JvmFault.model_validate(
        json.loads(JvmFault(action="python_oom", app="x").model_dump_json())
    )
    assert spec == JvmFault(action="python_oom", app="x")  # the journal's round trip


# -- the daemon (the part that runs in the executors' Python) ----------------------------


def test_the_daemon_knows_its_application_from_the_executors_command_line() -> None:
    cmdline = [
        "java",
        "org.apache.spark.executor.CoarseGrainedExecutorBackend",
        "--driver-url",
        "spark://CoarseGrainedScheduler@127.0.0.1:4000",
        "--executor-id",
        "0",
        "--app-id",
        "app-20261207030524-0000",
    ]
    assert dagstorm_pyworker.app_id_of(cmdline) == "app-20261207030524-0000"
    assert dagstorm_pyworker.app_id_of(["python", "-m", "pyspark.daemon"]) is None
    # This process descends from no executor: no application, so no marker can match.
    assert dagstorm_pyworker.executor_app_id(os.getpid()) is None


def test_only_markers_naming_the_application_count(tmp_path: Path) -> None:
    for name in ("app-1@f1", "app-1@f2", "app-10@f3", "app-2@f1"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "hits").mkdir()
    assert dagstorm_pyworker.active_markers(str(tmp_path), "app-1") == ["app-1@f1", "app-1@f2"]
    assert dagstorm_pyworker.active_markers(str(tmp_path), None) == []
    assert dagstorm_pyworker.active_markers(None, "app-1") == []
    assert dagstorm_pyworker.active_markers(str(tmp_path / "missing"), "app-1") == []


def test_the_declared_limit_is_pysparks_and_bounded_without_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYSPARK_EXECUTOR_MEMORY_MB", "1024")
    assert dagstorm_pyworker.declared_limit_mb() == 1024
    for missing in ("-1", "x"):
        monkeypatch.setenv("PYSPARK_EXECUTOR_MEMORY_MB", missing)
        assert dagstorm_pyworker.declared_limit_mb() == dagstorm_pyworker.FALLBACK_LIMIT_MB


def test_a_wrapped_reader_runs_the_task_unless_a_marker_names_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    died: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(
        dagstorm_pyworker, "run_out_of_memory", lambda d, app, found: died.append((app, found))
    )
    hook = dagstorm_pyworker.Hook(str(tmp_path), "app-1")

    def read() -> tuple[Any, ...]:
        return (lambda split, it: [sum(it)], "profiler", "deserializer", "serializer")

    func, *rest = hook.wrap_reader(read)()
    assert rest == ["profiler", "deserializer", "serializer"]
    assert func(0, iter([1, 2, 3])) == [6]  # no marker: the task as written
    (tmp_path / "app-2@f1").write_text("{}")
    assert func(0, iter([1])) == [1]  # another application's marker: nothing
    (tmp_path / "app-1@f1").write_text("{}")
    func(0, iter([1]))
    assert died == [("app-1", ["app-1@f1"])]
    assert hook.wrap_reader(lambda: "not a command")() == "not a command"


# -- the stack ----------------------------------------------------------------------------


def _context(tmp_path: Path) -> StackContext:
    return StackContext(config=StackConfig(state_dir=tmp_path), progress=Progress(quiet=True))


def test_the_stack_declares_the_limit_and_the_daemon_and_ships_it(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    render_spark_conf(ctx)
    conf = (ctx.layout.spark_conf_dir / "spark-defaults.conf").read_text()
    assert "spark.executor.pyspark.memory   1g" in conf
    assert "spark.python.daemon.module      dagstorm_pyworker" in conf
    # The conf that names the daemon also says where it and the markers are.
    assert f"spark.executorEnv.PYTHONPATH    {pyworker.python_dir(ctx.layout)}" in conf
    assert f"spark.executorEnv.{pyworker.FAULTS_ENV} {pyworker.markers_dir(ctx.layout)}" in conf
    assert pyworker.installed(ctx.layout, conf)
    shipped = pyworker.python_dir(ctx.layout) / "dagstorm_pyworker.py"
    assert shipped.read_bytes() == Path(dagstorm_pyworker.__file__).read_bytes()
    assert sorted(p.name for p in pyworker.python_dir(ctx.layout).iterdir()) == [shipped.name]
    env = spark_env(ctx)
    assert env["PYTHONPATH"] == str(pyworker.python_dir(ctx.layout))
    assert env[pyworker.FAULTS_ENV] == str(pyworker.markers_dir(ctx.layout))
    assert not pyworker.installed(ctx.layout, conf.replace("dagstorm_pyworker", "pyspark.daemon"))


def test_the_shipped_daemon_imports_nothing_of_dagstorm() -> None:
    text = Path(dagstorm_pyworker.__file__).read_text()
    assert "import dagstorm" not in text and "from dagstorm" not in text
    assert dagstorm_pyworker.FAULTS_ENV == pyworker.FAULTS_ENV
    assert sys.version_info >= (3, 10)


# -- the fault ----------------------------------------------------------------------------


def _stack(history: str | None = None) -> Stack:
    return Stack(
        kind="external",
        airflow_url="http://127.0.0.1:1",
        airflow_username=None,
        airflow_password=None,
        spark_master_url="spark://127.0.0.1:3",
        spark_ui_url="http://127.0.0.1:4",
        spark_history_url=history,
        kafka_bootstrap="127.0.0.1:2",
        toxiproxy_url=None,
        serving_db_dsn=None,
        components=("spark-worker",),
    )


def _fault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app: str) -> PythonWorkerOom:
    ctx = FaultContext(
        stack=_stack("http://127.0.0.1:5"),
        journal=FaultJournal(tmp_path / "faults" / "journal.jsonl"),
        embedded=_context(tmp_path),
    )
    monkeypatch.setattr(targets, "running_apps", lambda url: targets.apps_of(MASTER))
    return PythonWorkerOom(JvmFault(action="python_oom", app=app), "f9", ctx)


def test_an_external_stack_is_refused_with_where_to_read(tmp_path: Path) -> None:
    ctx = FaultContext(stack=_stack(), journal=FaultJournal(tmp_path / "j.jsonl"))
    fault = build_fault(JvmFault(action="python_oom", app="x"), "f1", ctx)
    with pytest.raises(FaultError, match="not embedded") as info:
        fault.check_targets()
    assert "Python-worker OOM" in (info.value.fix or "")


def test_a_stack_whose_spark_conf_has_no_daemon_is_refused_with_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fault = _fault(tmp_path, monkeypatch, "ad_events_stream-*")
    with pytest.raises(FaultError, match=r"spark\.python\.daemon\.module") as info:
        fault.check_targets()
    assert "dagstorm stack up" in (info.value.fix or "")


def test_markers_go_to_the_matching_apps_only_once_and_revert_removes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fault = _fault(tmp_path, monkeypatch, "ad_events_stream-*")
    assert fault.scan() == 1
    assert fault.scan() == 0  # an application gets its marker once
    marker = fault.markers_dir / "app-1@f9"
    assert json.loads(marker.read_text())["name"] == "ad_events_stream-sig-1"
    assert dagstorm_pyworker.active_markers(str(fault.markers_dir), "app-1") == ["app-1@f9"]
    assert dagstorm_pyworker.active_markers(str(fault.markers_dir), "app-2") == []
    hits = fault.markers_dir / "hits"
    hits.mkdir()
    (hits / "app-1@f9").write_text('{"pid": 5, "app_id": "app-1", "mib": 960}\n')
    (fault.markers_dir / "app-3@other").write_text("{}")  # another fault's: left alone
    # A new fault object (as `dagstorm recover` builds one after a SIGKILL) reverts by name.
    PythonWorkerOom(fault.spec, "f9", fault.ctx).revert()
    assert sorted(p.name for p in fault.markers_dir.iterdir()) == ["app-3@other", "hits"]
    assert list(hits.iterdir()) == []
    PythonWorkerOom(fault.spec, "f9", fault.ctx).revert()  # twice is harmless


def test_inject_without_a_matching_app_says_so_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watching, "WAIT_S", 0.2)
    monkeypatch.setattr(watching, "POLL_S", 0.05)
    fault = _fault(tmp_path, monkeypatch, "nothing-*")
    with pytest.raises(FaultError, match="no running Spark application named `nothing-\\*`"):
        fault.inject()
    assert not fault.markers_dir.exists() or list(fault.markers_dir.glob("*@f9")) == []


def test_only_failed_tasks_with_the_signature_are_evidence() -> None:
    crashes = python_crashes(STAGES)
    assert [(c["taskId"], c["stageId"]) for c in crashes] == [(3, 1), (7, 2)]
    assert python_crashes([]) == [] and python_crashes([{"stageId": 1, "tasks": None}]) == []
    assert first_line(CRASH).startswith("org.apache.spark.SparkException: Python worker exited")


def test_verify_reads_the_failed_task_from_the_rest_api_the_driver_then_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, str]] = []

    def rest(bases: list[str], app_id: str) -> list[dict[str, Any]] | None:
        asked.append((bases[-1], app_id))
        return STAGES

    monkeypatch.setattr(python_oom, "rest_failed_stages", rest)
    monkeypatch.setattr(targets, "find_jvms", lambda apps, jar, roles: [])
    fault = _fault(tmp_path, monkeypatch, "ad_events_stream-*")
    fault.scan()
    hits = fault.markers_dir / "hits"
    hits.mkdir()
    entry = {"pid": 41, "app_id": "app-1", "mib": 960, "limit_mb": 1024, "wall": HIT_WALL}
    (hits / "app-1@f9").write_text(json.dumps(entry) + "\n")
    evidence = fault.verify()
    assert evidence == (
        "task 3 (stage 1, executor 0) of app-1 failed: org.apache.spark.SparkException: "
        + first_line(CRASH).removeprefix("org.apache.spark.SparkException: ")
        + "; worker pid 41 filled 960 MiB of 1024 MiB"
    )
    assert asked == [("http://127.0.0.1:5", "app-1")]  # no driver found: the history server


def test_crashes_that_ended_before_this_faults_first_worker_died_are_not_its_evidence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An earlier fault crashed tasks 3 and 7 of the same application; this fault's first
    # worker died four minutes later, and nothing has crashed since.
    monkeypatch.setattr(watching, "WAIT_S", 0.2)
    monkeypatch.setattr(python_oom, "rest_failed_stages", lambda bases, app_id: STAGES)
    monkeypatch.setattr(targets, "find_jvms", lambda apps, jar, roles: [])
    fault = _fault(tmp_path, monkeypatch, "ad_events_stream-*")
    fault.scan()
    hits = fault.markers_dir / "hits"
    hits.mkdir()
    entry = {"pid": 41, "app_id": "app-1", "mib": 960, "limit_mb": 1024, "wall": HIT_WALL + 240}
    (hits / "app-1@f9").write_text(json.dumps(entry) + "\n")
    with pytest.raises(FaultError, match="Python worker exited unexpectedly"):
        fault.verify()
    # Without a worker of its own (no hit), a crash is not evidence either.
    (hits / "app-1@f9").unlink()
    with pytest.raises(FaultError):
        fault.verify()


def test_a_crash_ends_when_its_task_launched_plus_its_duration() -> None:
    task = STAGES[1]["tasks"]["3"]
    assert python_oom.task_end_s(task) == pytest.approx(HIT_WALL + 1.1)
    assert python_oom.task_end_s({"launchTime": "yesterday"}) is None
    assert python_oom.crashes_since([task], HIT_WALL + 2.0) == [task]  # within the slack
    assert python_oom.crashes_since([task], HIT_WALL + 2.2) == []


def test_verify_without_the_signature_names_what_a_python_oom_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watching, "WAIT_S", 0.2)
    monkeypatch.setattr(python_oom, "rest_failed_stages", lambda bases, app_id: STAGES[2:])
    monkeypatch.setattr(targets, "find_jvms", lambda apps, jar, roles: [])
    fault = _fault(tmp_path, monkeypatch, "ad_logs_hourly-*")
    fault.scan()
    with pytest.raises(FaultError, match="Python worker exited unexpectedly") as info:
        fault.verify()
    assert "Python UDF" in (info.value.fix or "") and "Spark SQL alone" in (info.value.fix or "")
