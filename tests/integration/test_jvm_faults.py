"""JVM faults on the real stack: the pipeline's own Spark job, not a bystander.

A partition with a known answer is written and ad_logs_hourly is triggered for it;
its aggregation application is named ``ad_logs_hourly-<profile>-<hour>``, so the
fault's ``app`` glob names this test's application and no other. Needs the
Byteman agent in the stack's Spark JVMs: `dagstorm stack install`, then a stack
restart (docs/faults.md, JVM faults).
"""

from __future__ import annotations

import random
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dagstorm.core.errors import FaultError
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.jvm import targets
from dagstorm.faults.jvm.agent import AgentClient
from dagstorm.faults.jvm.fault import JvmRuleFault
from dagstorm.faults.manager import FaultManager
from dagstorm.faults.specs import JvmFault
from dagstorm.stack.deploy import PipelineSettings, deploy_pipeline
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack
from tests.integration.helpers import dagstorm_command, inject_then_sigkill, tool, wait_for

pytestmark = pytest.mark.integration

DAG = "ad_logs_hourly"
TASK = "aggregate_light"
RUN_TIMEOUT = 900.0
_EVIDENCE = re.compile(r"executor (\S+) of (app-\S+) lost: (.*)$")


@pytest.fixture(scope="module")
def settings(stack_context: StackContext) -> PipelineSettings:
    deploy_pipeline(stack_context)  # idempotent; `stack up` did it already
    return PipelineSettings.for_embedded(stack_context)


@pytest.fixture(scope="module")
def runs(stack: Stack, settings: PipelineSettings) -> Iterator[Any]:
    client = tool("airflow_runs").AirflowRuns(stack)
    yield client
    client.close()


@pytest.fixture
def journal(stack_context: StackContext) -> FaultJournal:
    return FaultJournal(stack_context.layout.root / "faults" / "journal.jsonl")


def _partition(settings: PipelineSettings, tag: str) -> str:
    """A fresh partition with a known answer; its hour as the DAG's ``partition_hour``."""
    data = tool("sample_data")
    hour = datetime(2024, 1, 2, tzinfo=UTC) + timedelta(hours=random.randrange(24 * 365 * 2))
    data.write_partition(settings.landing_dir, data.make_sample(hour, scale=2, tag=tag))
    return hour.strftime("%Y-%m-%dT%H")


def _rules_left(fault: JvmRuleFault) -> dict[int, list[str]]:
    """The rules of this fault still loaded in recorded JVMs that still run.

    A JVM on its way out (its job ended once the rule was gone) closes its agent's socket
    before the process is gone: asked again until it answers or has exited, never counted
    as holding a rule it cannot be asked about.
    """
    left: dict[int, list[str]] = {}
    for entry in fault.recorded():

        def answer(entry: dict[str, Any] = entry) -> tuple[bool, list[str]] | None:
            """(still running, this fault's rules in it); None while it cannot tell."""
            if targets.recorded_still_running(entry) is None:
                return (False, [])
            try:
                rules = AgentClient(entry["port"]).rules()
            except FaultError:
                return None  # exiting, or not answering yet: ask again
            return (True, [n for n in rules if fault.fault_id in n])

        running, names = wait_for(f"JVM {entry['pid']} answers or exits", answer, 60)
        if running:
            left[entry["pid"]] = names
    return left


def _history_executor(stack: Stack, app_id: str, executor_id: str) -> dict[str, Any]:
    assert stack.spark_history_url is not None

    def found() -> dict[str, Any] | None:
        url = f"{stack.spark_history_url}/api/v1/applications/{app_id}/allexecutors"
        response = httpx.get(url, timeout=5)
        if response.status_code != 200:
            return None
        return next((e for e in response.json() if e["id"] == executor_id), None)

    executor: dict[str, Any] = wait_for(f"executor {executor_id} in history", found, 120)
    return executor


def test_the_pipelines_own_aggregation_dies_with_exit_52_and_airflow_retries(
    stack: Stack,
    stack_context: StackContext,
    runs: Any,
    settings: PipelineSettings,
    journal: FaultJournal,
) -> None:
    hour = _partition(settings, "jvm-oom")
    run_id = runs.trigger(DAG, {"partition_hour": hour})
    spec = JvmFault(action="memory_stress", app=f"{DAG}-*-{hour}")
    ctx = FaultContext(stack=stack, journal=journal, embedded=stack_context)
    with FaultManager(ctx) as manager:
        active = manager.inject(spec)  # waits for the application, then for an exit 52
        fault = active.fault
        assert isinstance(fault, JvmRuleFault)
        # Held until Airflow has failed the task's first try and started another.
        wait_for(
            "a second try of the aggregation",
            lambda: len(runs.tries(DAG, run_id, TASK)) >= 2,
            RUN_TIMEOUT,
        )
        manager.revert(active)
    recorded = fault.recorded()
    assert recorded and {e["role"] for e in recorded} == {"executor"}
    assert all(names == [] for names in _rules_left(fault).values())
    run = runs.wait(DAG, run_id, RUN_TIMEOUT)
    tries = runs.tries(DAG, run_id, TASK)
    assert tries[0]["state"] == "failed", tries[0]
    # Reverted once the second try started: that try (if its executors got the rule
    # first) or the next succeeds, within the DAG's 3 retries.
    assert run["state"] == "success", tries
    assert tries[-1]["state"] == "success" and 2 <= len(tries) <= 4
    # The journal's evidence is what Spark's REST API says about that executor.
    verified = [
        e for e in journal.entries() if e["id"] == fault.fault_id and e["event"] == "verified"
    ]
    match = _EVIDENCE.search(verified[0]["detail"]["evidence"])
    assert match is not None, verified
    executor_id, app_id, reason = match.groups()
    executor = _history_executor(stack, app_id, executor_id)
    assert executor["isActive"] is False
    assert "code 52" in executor["removeReason"]
    assert executor["removeReason"].startswith(reason.strip()[:40])
    assert app_id in fault.applied["apps"]


def test_recover_after_a_sigkill_leaves_no_rule_loaded(
    stack: Stack,
    stack_context: StackContext,
    runs: Any,
    settings: PipelineSettings,
    journal: FaultJournal,
) -> None:
    hour = _partition(settings, "jvm-recover")
    run_id = runs.trigger(DAG, {"partition_hour": hour})
    # Each task of the aggregation starts 20 s late: its JVMs outlive the kill and recover.
    spec = [
        "jvm",
        "action=latency",
        f"app={DAG}-*-{hour}",
        "jvm=all",
        "method=org.apache.spark.scheduler.Task.run",
        "latency_ms=20000",
    ]
    ctx = FaultContext(stack=stack, journal=journal, embedded=stack_context)

    def in_an_executor(applied: dict[str, Any]) -> bool:
        # Inject returns once the first JVM holds the rule (often the driver, before its
        # executor starts); the fault's watcher loads it into the executor soon after.
        # Killed before that, no executor is slowed, the job ends at once, and with it
        # the driver that held the rule: nothing would be left for recover to find.
        spec_of = JvmFault.model_validate(_spec_of(journal, applied["id"]))
        fault = JvmRuleFault(spec_of, applied["id"], ctx)
        for entry in fault.recorded():
            if entry.get("role") != "executor":
                continue
            if targets.recorded_still_running(entry) is None:
                continue
            try:
                if any(fault.fault_id in name for name in AgentClient(entry["port"]).rules()):
                    return True
            except FaultError:  # its agent not answering (yet)
                continue
        return False

    applied = inject_then_sigkill(stack_context, journal, spec, ready=in_an_executor)
    spec_data = _spec_of(journal, applied["id"])
    orphan = JvmRuleFault(JvmFault.model_validate(spec_data), applied["id"], ctx)
    loaded = _rules_left(orphan)
    assert loaded and all(names for names in loaded.values()), loaded  # still there: orphaned
    with subprocess.Popen(
        dagstorm_command(stack_context, "recover"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as recovering:
        # Once the rule is gone the job speeds up and its JVMs may end soon after: watch
        # them while recover runs, to see a live one without the rule (not just gone).
        cleared = _cleared_while_alive(orphan, set(loaded), lambda: recovering.poll() is None)
        output, _ = recovering.communicate(timeout=300)
    assert recovering.returncode == 0, output
    assert cleared, f"no JVM seen alive without the rule: {loaded}; recover said: {output}"
    left = _rules_left(orphan)
    assert all(names == [] for names in left.values()), left
    assert runs.wait(DAG, run_id, RUN_TIMEOUT)["state"] == "success"


def _cleared_while_alive(
    fault: JvmRuleFault, pids: set[int], recovering: Callable[[], bool]
) -> set[int]:
    """The JVMs of ``pids`` seen running, answering, and without this fault's rule.

    Asked every 0.2 s while ``recovering()`` holds and until each JVM answered without
    the rule or exited (≤ 60 s after recover ends).
    """
    entries = {int(e["pid"]): e for e in fault.recorded() if int(e["pid"]) in pids}
    cleared: set[int] = set()
    gone: set[int] = set()
    after: float | None = None
    while True:
        for pid, entry in entries.items():
            if pid in cleared or pid in gone:
                continue
            if targets.recorded_still_running(entry) is None:
                gone.add(pid)
                continue
            try:
                rules = AgentClient(entry["port"]).rules()
            except FaultError:
                continue  # not answering this time
            if not [n for n in rules if fault.fault_id in n]:
                cleared.add(pid)
        if cleared | gone == set(entries):
            return cleared
        if not recovering():
            after = after if after is not None else time.monotonic()
            if time.monotonic() - after > 60:
                return cleared
        time.sleep(0.2)


def _spec_of(journal: FaultJournal, fault_id: str) -> dict[str, Any]:
    intent = next(e for e in journal.entries() if e["id"] == fault_id and e["event"] == "intent")
    spec: dict[str, Any] = intent["spec"]
    return spec
