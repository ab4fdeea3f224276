"""bench/fault_timings.py --airflow: its options, its rows and targets, its cleanup.

Without a stack: the targets are the reference pipeline's (checked against the deploy
step and the DAG file), v2 of the DAG file changes only its description, and a row
whose fault cannot be applied prints ``failed:`` — through the real FaultManager,
which reverts it — while the next rows run; the bench's run is deleted after every
fault is reverted, on an error and on Ctrl-C too. Airflow itself is a fake here.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import dagstorm.faults.manager as manager_mod
from dagstorm.core.errors import FaultError, ServiceUnreachableError
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.manager import FaultManager
from dagstorm.faults.specs import AirflowFault
from dagstorm.faults.specs.airflow import API_ACTIONS
from dagstorm.faults.specs.base import FaultSpecBase
from dagstorm.stack import deploy
from tests.unit.stacks import airflow_stack

ROOT = Path(__file__).parents[2]
BENCH = ROOT / "bench"
DAG_FILE = ROOT / "pipelines" / "dags" / "scheduler_bench.py"


def _load(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    sys.path.insert(0, str(BENCH))  # fault_timings imports its siblings by name, as when run
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


timings = _load("fault_timings")
af = _load("airflow_timings")


class FakeApi:
    """Airflow's DAG runs and DAG source, in memory; a run finishes after ``run_polls`` looks."""

    def __init__(self, paused: bool = False, run_polls: int = 1) -> None:
        self.paused = paused
        self.unreachable = False
        self.run_polls = run_polls
        self.events: list[str] = []
        self.looks: dict[str, int] = {}

    def is_paused(self, dag_id: str) -> bool:
        if self.unreachable:
            raise ServiceUnreachableError("Airflow's token endpoint did not answer")
        return self.paused

    def trigger(self, dag_id: str, run_id: str) -> None:
        self.events.append(f"trigger {dag_id}")
        self.looks[run_id] = 0

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        if run_id not in self.looks:
            return None
        self.looks[run_id] += 1
        return "success" if self.looks[run_id] >= self.run_polls else "running"

    def delete_run(self, dag_id: str, run_id: str) -> None:
        self.events.append(f"delete {run_id.partition('__')[0]}")
        self.looks.pop(run_id, None)

    def source(self, dag_id: str) -> str:
        return DAG_FILE.read_text()


class FakeClock:
    """A monotonic clock that moves only when waited on (poll_until's sleep)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> None:
        self.now += seconds


# -- options ------------------------------------------------------------------------------


def test_airflow_options_parse_and_unknown_or_clashing_ones_are_refused() -> None:
    args = timings.parse_args(["--airflow"])
    assert args.airflow and not args.jvm
    assert args.airflow_actions == list(af.ACTIONS)
    picked = timings.parse_args(["--airflow", "--airflow-actions", "deploy_dag, pause_dag"])
    assert picked.airflow_actions == ["deploy_dag", "pause_dag"]
    for bad in (
        ["--airflow", "--airflow-actions", "pause_dag,kill"],
        ["--airflow", "--jvm"],
        ["--airflow", "--repeat", "21"],
    ):
        with pytest.raises(SystemExit):
            timings.parse_args(bad)


# -- rows and targets -------------------------------------------------------------------------


def test_every_api_action_has_one_row_on_the_reference_pipelines_objects(tmp_path: Path) -> None:
    with af.Targets(FakeApi()) as targets:
        rows = af.airflow_rows(targets)
        specs: list[AirflowFault] = [row.spec for row in rows]
        assert sorted(s.action for s in specs) == sorted(API_ACTIONS)
        assert [s.action for s in specs][-2:] == ["break_dag", "deploy_dag"]  # the file last
        by = {s.action: s for s in specs}
        assert by["squeeze_pool"].pool == deploy.SPARK_POOL and by["squeeze_pool"].slots == 0
        assert by["break_connection"].connection_id in deploy.CONNECTION_IDS
        assert by["break_connection"].connection_id == deploy.SERVING_CONN_ID
        assert by["clear_runs"].runs == 1  # only the bench's own run
        assert by["deploy_dag"].dag_file == str(targets.v2_file)
        dags = {s.dag_id for s in specs if s.dag_id}
        assert dags == {"scheduler_bench_000"}
        prepares = {row.spec.action: row.prepare for row in rows}
        assert prepares["clear_runs"] == targets.finished_run
        assert prepares["deploy_dag"] == targets.write_v2
        assert prepares["squeeze_pool"] is None
        timed = [row.timed for row in rows]
        assert all(timed) and len(set(timed)) == len(timed)
        assert "import error" in rows[-2].timed
    subset = af.airflow_rows(targets, ["deploy_dag", "squeeze_pool"])
    assert [r.spec.action for r in subset] == ["squeeze_pool", "deploy_dag"]
    with pytest.raises(ValueError, match="unknown"):
        af.airflow_rows(targets, ["pause_dag", "kill"])


def test_the_dag_exists_on_the_stack_the_reference_pipeline_deploys() -> None:
    text = DAG_FILE.read_text()
    assert 'dag_id=f"scheduler_bench_{index:03d}"' in text
    here = Path(".")
    settings = deploy.PipelineSettings(here, here, here, here, (), 1)
    assert settings.scheduler_bench["dags"] >= 1  # scheduler_bench_000 is deployed by default
    assert (ROOT / "pipelines" / "dags" / "ad_pipeline" / "settings.py").read_text().count(
        f'"{af.POOL}"'
    ) == 1


def test_v2_changes_only_the_description_and_still_parses() -> None:
    v1 = DAG_FILE.read_text()
    v2 = af.v2_source(v1)
    ast.parse(v2)
    assert v2 != v1 and af.V2_TEXT in v2 and v2.count(af.V2_TEXT) == 1
    changed = [line for line in v2.splitlines() if line not in v1.splitlines()]
    assert len(changed) == 2 and changed[0].startswith("#") and "description=" in changed[1]
    with pytest.raises(FaultError, match="v2"):
        af.v2_source("print('no DAG here')\n")


def test_the_bench_run_is_triggered_once_and_waited_for_and_v2_is_written(tmp_path: Path) -> None:
    api = FakeApi(run_polls=3)
    clock = FakeClock()
    with af.Targets(api, clock=clock, wait=clock.wait) as targets:
        targets.finished_run()
        targets.finished_run()
        assert api.events == ["trigger scheduler_bench_000"] and clock.now > 0
        targets.write_v2()
        assert targets.v2_file.read_text() == af.v2_source(DAG_FILE.read_text())
        folder = targets.folder
    assert api.events[-1] == "delete dagstorm_bench_faults" and not api.looks
    assert not folder.exists()


def test_a_paused_dag_or_a_run_that_never_ends_fails_bounded() -> None:
    with af.Targets(FakeApi(paused=True)) as targets, pytest.raises(FaultError, match="paused"):
        targets.finished_run()
    clock = FakeClock()
    api = FakeApi(run_polls=10**9)
    targets = af.Targets(api, clock=clock, wait=clock.wait)
    with pytest.raises(FaultError, match="not finished"), targets:
        targets.finished_run()
    assert clock.now == pytest.approx(af.RUN_WAIT_S + af.EXIT_WAIT_S)  # bounded, twice
    assert api.events[-1].startswith("delete")  # deleted though it never finished


# -- a failing row, through the real FaultManager ------------------------------------------------


class FakeFault:
    """A fault whose verify fails for ``failing``, whose revert fails once for
    ``revert_fails``, whose inject is Ctrl-C'd for ``interrupt``; logs every step."""

    log: list[str] = []
    failing: set[str] = set()
    revert_fails: set[str] = set()
    interrupt: set[str] = set()

    def __init__(self, spec: FaultSpecBase, fault_id: str, ctx: FaultContext) -> None:
        self.spec = spec
        self.fault_id = fault_id
        self.applied: dict[str, Any] = {}
        self.action = str(getattr(spec, "action", ""))

    def check_targets(self) -> None:
        pass

    def inject(self) -> dict[str, Any]:
        self.log.append(f"inject {self.action}")
        if self.action in self.interrupt:
            raise KeyboardInterrupt
        return {}

    def verify(self) -> str:
        if self.action in self.failing:
            raise FaultError(f"{self.action} not seen")
        return "seen"

    def stop(self) -> None:
        pass

    def revert(self) -> None:
        if self.action in self.revert_fails:
            self.revert_fails.discard(self.action)
            self.log.append(f"revert {self.action} refused")
            raise FaultError(f"{self.action}: Airflow did not answer")
        self.log.append(f"revert {self.action}")


STACK = airflow_stack()


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    """Airflow's fake; the faults log into its events, so their order with its calls shows."""
    fake = FakeApi()
    FakeFault.log = fake.events
    FakeFault.failing = set()
    FakeFault.revert_fails = set()
    FakeFault.interrupt = set()
    monkeypatch.setattr(manager_mod, "build_fault", FakeFault)
    return fake


def _manager(tmp_path: Path) -> FaultManager:
    return FaultManager(FaultContext(stack=STACK, journal=FaultJournal(tmp_path / "j.jsonl")))


def test_a_row_that_cannot_be_applied_is_reverted_prints_failed_and_the_next_rows_run(
    api: FakeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    FakeFault.failing = {"pause_dag"}
    manager = _manager(tmp_path)
    af.airflow_main(lambda: manager, api, ["squeeze_pool", "pause_dag", "clear_runs"], 2)
    assert api.events == [
        *["inject squeeze_pool", "revert squeeze_pool"] * 2,
        "inject pause_dag",
        "revert pause_dag",  # the manager reverted the fault it could not verify
        "trigger scheduler_bench_000",
        *["inject clear_runs", "revert clear_runs"] * 2,
        "delete dagstorm_bench_faults",
    ]
    assert not manager.active
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and lines[0].split()[0] == "fault"
    assert lines[2].startswith("airflow DAG scheduler_bench_000 paused")
    assert " failed: " in lines[2] and "pause_dag not seen" in lines[2]
    for line, action in ((lines[1], "squeeze_pool"), (lines[3], "clear_runs")):
        assert "failed" not in line and line.endswith(af.TIMED[action])


def test_a_revert_that_fails_is_retried_at_the_end_before_the_run_is_deleted(
    api: FakeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    FakeFault.revert_fails = {"squeeze_pool"}
    manager = _manager(tmp_path)
    af.airflow_main(lambda: manager, api, ["squeeze_pool", "clear_runs"], 1)
    assert api.events == [
        "inject squeeze_pool",
        "revert squeeze_pool refused",
        "trigger scheduler_bench_000",
        "inject clear_runs",
        "revert clear_runs",
        "revert squeeze_pool",  # the manager's block ends: what is still held is reverted
        "delete dagstorm_bench_faults",
    ]
    assert not manager.active
    assert "failed: reverting" in capsys.readouterr().out.splitlines()[1]


def test_ctrl_c_reverts_the_fault_then_deletes_the_bench_run(api: FakeApi, tmp_path: Path) -> None:
    FakeFault.interrupt = {"break_dag"}
    manager = _manager(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        af.airflow_main(lambda: manager, api, ["clear_runs", "break_dag"], 1)
    assert api.events == [
        "trigger scheduler_bench_000",
        "inject clear_runs",
        "revert clear_runs",
        "inject break_dag",
        "revert break_dag",
        "delete dagstorm_bench_faults",
    ]
    assert not manager.active


def test_a_row_whose_preparation_fails_prints_failed_and_the_next_rows_run(
    api: FakeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.unreachable = True
    manager = _manager(tmp_path)
    af.airflow_main(lambda: manager, api, ["clear_runs", "break_dag"], 1)
    assert api.events == ["inject break_dag", "revert break_dag"]  # no run: none to delete
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].endswith("failed: Airflow's token endpoint did not answer")
    assert lines[2].endswith(af.TIMED["break_dag"])
