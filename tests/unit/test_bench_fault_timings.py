"""bench/fault_timings.py --jvm: its target application, its rows' order, its cleanup.

Without a stack: the target's spark-submit line and options, the rows (destructive
last), and that the target's process is stopped after every fault is reverted —
on an error and on Ctrl-C too — with a fake fault manager and a stand-in process.
One slow test runs the target job on a real local PySpark and sees it end by itself.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, get_args

import psutil
import pytest

from dagstorm.core.errors import FaultError
from dagstorm.core.progress import Progress
from dagstorm.faults.specs.base import FaultSpecBase
from dagstorm.faults.specs.jvm import JvmAction
from dagstorm.stack.config import StackConfig
from dagstorm.stack.embedded.context import StackContext

BENCH = Path(__file__).parents[2] / "bench"


def _load(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    sys.path.insert(0, str(BENCH))  # fault_timings imports its sibling by name, as when run
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


timings = _load("fault_timings")
target_mod = _load("jvm_target")
job = _load("jvm_target_job")


# -- the target's command line and options ------------------------------------------------


def test_the_target_is_submitted_to_the_loopback_master_under_its_name() -> None:
    argv = target_mod.submit_argv(
        Path("/opt/spark"), "spark://127.0.0.1:17077", "dagstorm-bench-jvm-42", 4555, 90
    )
    assert argv[0] == "/opt/spark/bin/spark-submit"
    assert argv[argv.index("--master") + 1] == "spark://127.0.0.1:17077"
    assert argv[argv.index("--name") + 1] == "dagstorm-bench-jvm-42"
    confs = [argv[i + 1] for i, part in enumerate(argv) if part == "--conf"]
    assert "spark.task.maxFailures=20" in confs  # rounds survive failed tasks
    assert "spark.cores.max=1" in confs and "spark.ui.port=4555" in confs
    job_at = argv.index(str(target_mod.JOB))
    assert Path(argv[job_at]).name == "jvm_target_job.py" and Path(argv[job_at]).is_file()
    assert argv[job_at + 1 :] == ["--seconds", "90"]
    # What comes after the job parses as the job's own options.
    assert job.parse_args(argv[job_at + 1 :]).seconds == 90


def test_a_master_off_loopback_is_refused() -> None:
    with pytest.raises(FaultError, match="loopback"):
        target_mod.submit_argv(Path("/opt/spark"), "spark://10.0.0.5:7077", "n", 4040)


def test_the_job_runs_a_bounded_time() -> None:
    args = job.parse_args([])
    assert args.seconds == target_mod.TARGET_S == 180 and args.partitions == 4
    for bad in (["--seconds", "0"], ["--seconds", "601"], ["--partitions", "0"]):
        with pytest.raises(SystemExit):
            job.parse_args(bad)


# -- the rows ----------------------------------------------------------------------------------


def test_every_jvm_action_has_a_row_and_the_destructive_ones_come_last() -> None:
    specs = target_mod.jvm_specs("dagstorm-bench-jvm-7")
    actions = [s.action for s in specs]
    assert set(actions) == set(get_args(JvmAction))
    assert actions[-2:] == ["python_oom", "memory_stress"]
    assert all(s.app == "dagstorm-bench-jvm-7" and s.jvm == "executor" for s in specs)
    latency = specs[actions.index("latency")]
    assert 0 < latency.latency_ms <= 5000  # a delay, not a hang
    exception = specs[actions.index("exception")]
    assert exception.method == target_mod.SHUFFLE_FETCH  # the job's reduceByKey fetches


def test_a_subset_keeps_the_row_order_and_an_unknown_action_is_refused() -> None:
    picked = target_mod.jvm_specs("a", ["memory_stress", "latency"])
    assert [s.action for s in picked] == ["latency", "memory_stress"]
    with pytest.raises(ValueError, match="unknown"):
        target_mod.jvm_specs("a", ["latency", "oom"])
    assert timings.parse_args(["--jvm", "--jvm-actions", "exception"]).actions == ["exception"]
    with pytest.raises(SystemExit):
        timings.parse_args(["--jvm", "--jvm-actions", "latency,nope"])
    with pytest.raises(SystemExit):
        timings.parse_args(["--repeat", "0"])


# -- cleanup -----------------------------------------------------------------------------------


class FakeManager:
    """Records what the rows ask; inject raises ``fail`` at call number ``fail_at``."""

    def __init__(self, events: list[str], fail: BaseException | None = None, fail_at: int = 1):
        self.events = events
        self.fail = fail
        self.fail_at = fail_at
        self.injects = 0

    def inject(self, spec: FaultSpecBase) -> Any:
        self.injects += 1
        self.events.append(f"inject {spec.describe().split()[1]}")
        if self.fail is not None and self.injects == self.fail_at:
            raise self.fail
        return spec

    def revert(self, active: Any) -> None:
        self.events.append("revert")

    def __enter__(self) -> FakeManager:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.events.append("revert_all")


def _target_class() -> type:
    class StandIn(target_mod.TargetApp):  # type: ignore[misc,name-defined]
        """The real start and stop, with a sleeping Python for spark-submit."""

        def argv(self) -> list[str]:
            return [sys.executable, "-c", "import time; time.sleep(120)"]

        def executor_ready(self) -> bool:
            return True

        def stop(self) -> str:
            self.events.append("target stop")
            outcome: str = super().stop()
            return outcome

    return StandIn


def _target(tmp_path: Path, events: list[str]) -> Any:
    ctx = StackContext(
        config=StackConfig(state_dir=tmp_path / "state"), progress=Progress(quiet=True)
    )
    target = _target_class()(ctx, "spark://127.0.0.1:1", "http://127.0.0.1:1", "bench-t")
    target.events = events
    return target


@pytest.mark.parametrize("fail", [RuntimeError("a bug"), KeyboardInterrupt()])
def test_the_target_stops_after_the_faults_are_reverted_on_an_error_and_on_ctrl_c(
    tmp_path: Path, fail: BaseException
) -> None:
    events: list[str] = []
    target = _target(tmp_path, events)
    manager = FakeManager(events, fail=fail, fail_at=2)
    started: list[int] = []
    real_ensure = target.ensure_running

    def ensure() -> float:
        took: float = real_ensure()
        started.append(target.record.pid)
        return took

    target.ensure_running = ensure
    with pytest.raises(type(fail)):
        timings.jvm_rows(target, lambda: manager, target_mod.jvm_specs("bench-t"), 1)
    assert events == [
        "inject latency",
        "revert",
        "inject exception",
        "revert_all",
        "target stop",
    ]
    assert started and len(set(started)) == 1  # one target, still running between rows
    assert not psutil.pid_exists(started[0]) or psutil.Process(started[0]).status() == "zombie"
    assert not target.pid_path.exists()


def test_a_fault_that_cannot_be_applied_fails_its_row_and_the_next_rows_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events: list[str] = []
    target = _target(tmp_path, events)
    manager = FakeManager(events, fail=FaultError("no executor lost with exit 52"), fail_at=1)
    specs = target_mod.jvm_specs("bench-t", ["latency", "exception"])
    timings.jvm_rows(target, lambda: manager, specs, 3)  # the first try of latency fails
    tries = ["inject exception", "revert"] * 3
    assert events == ["inject latency", *tries, "revert_all", "target stop"]
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].endswith("failed: no executor lost with exit 52")
    assert lines[2].startswith(specs[1].describe()) and len(lines) == 3
    assert target.record is None


def test_a_target_near_its_end_is_replaced_before_a_row(tmp_path: Path) -> None:
    events: list[str] = []
    target = _target(tmp_path, events)
    with target:
        target.ensure_running()
        first = target.record.pid
        target.ensure_running()
        assert target.record.pid == first and target.starts == 1
        target.started_at -= target_mod.TARGET_S - target_mod.FRESH_S + 1
        target.ensure_running()
        assert target.starts == 2 and target.record.pid != first
        assert not psutil.pid_exists(first) or psutil.Process(first).status() == "zombie"
    assert events == ["target stop", "target stop"]


def test_rows_are_timed_with_the_target_ready_before_each_inject(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events: list[str] = []
    target = _target(tmp_path, events)
    specs = target_mod.jvm_specs("bench-t", ["latency", "memory_stress"])
    timings.jvm_rows(target, lambda: FakeManager(events), specs, 2)
    rows = ["inject latency", "revert"] * 2 + ["inject memory", "revert"] * 2
    assert events == [*rows, "revert_all", "target stop"]
    assert target.starts == 1  # still running: not started again
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[0] == "fault" and len(lines) == 3
    assert lines[1].startswith(specs[0].describe()) and lines[2].startswith(specs[1].describe())


def test_a_target_that_ended_is_started_again(tmp_path: Path) -> None:
    events: list[str] = []
    target = _target(tmp_path, events)
    with target:
        target.ensure_running()
        first = target.record.pid
        psutil.Process(first).kill()
        psutil.Process(first).wait(timeout=10)
        target.ensure_running()
        assert target.starts == 2 and target.record.pid != first
    assert events == ["target stop"] and target.record is None


# -- the job on a real PySpark -------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("JAVA_HOME") and shutil.which("java") is None,
    reason="PySpark needs java",
)
def test_the_target_job_runs_rounds_and_ends_by_itself(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LANG": "C.UTF-8",
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
    }
    if "JAVA_HOME" in os.environ:
        env["JAVA_HOME"] = os.environ["JAVA_HOME"]
    argv = [sys.executable, str(target_mod.JOB), "--master", "local[2]"]
    argv += ["--seconds", "6", "--partitions", "2", "--task-ms", "100"]
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stdout[-1000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    # 8 records, x*x summed by parity: evens 0+4+16+36, odds 1+9+25+49.
    assert "round 1 ok [(0, 56), (1, 84)]" in lines
    assert lines[-1].startswith("target done: ") and lines[-1].endswith(", 0 failed")
