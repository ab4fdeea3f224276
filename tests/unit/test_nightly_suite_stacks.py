"""Suite entries with their own stack (`stack:`): loading, the plan, the switches, the outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from lxml import etree

from dagstorm.cli import cli
from dagstorm.core.errors import ExitCode, StackNotRunningError, UsageError
from dagstorm.harness import FinishedRun, run_suite
from dagstorm.harness.suite_stacks import SuiteStacks
from dagstorm.scenarios.loader import LoadedScenario, ScenarioInvalid
from dagstorm.scenarios.suite import SWITCH_ESTIMATE_S, LoadedSuite, load_suite
from dagstorm.stack.config import StackConfig, load_stack_config

ROOT = Path(__file__).parents[2]
SCENARIOS = ROOT / "scenarios"
NIGHTLY = SCENARIOS / "nightly.yaml"
FIXTURE = ROOT / "tests" / "fixtures" / "journals" / "broker_outage"
SCHEMA = etree.XMLSchema(etree.parse(str(ROOT / "tests" / "fixtures" / "junit" / "junit.xsd")))
CELERY = "airflow: {executor: celery}\ncelery: {workers: 2}\n"


def entry(name: str, stack: str | None = None) -> str:
    """A suite entry running smoke.yaml under its own name, on ``stack`` if given."""
    text = f"  - file: smoke.yaml\n    overrides: {{name: {name}}}\n"
    return text + (f"    stack: {stack}\n" if stack else "")


def write_suite(tmp_path: Path, *entries: str, budget: str = "") -> Path:
    shutil.copy(SCENARIOS / "smoke.yaml", tmp_path / "smoke.yaml")
    (tmp_path / "stacks").mkdir(exist_ok=True)
    (tmp_path / "stacks" / "celery.stack.yaml").write_text(CELERY)
    (tmp_path / "stacks" / "other.stack.yaml").write_text("airflow: {executor: celery}\n")
    path = tmp_path / "suite.yaml"
    path.write_text(f"suite: t\n{budget}scenarios:\n" + "".join(entries))
    return path


class Recorder:
    """A fake stack bringer and runner writing one list of events, in order."""

    def __init__(self, tmp_path: Path, codes: dict[str, ExitCode | BaseException]) -> None:
        self.tmp_path = tmp_path
        self.codes = codes
        self.events: list[str] = []
        self.fail_bring: dict[str, BaseException] = {}

    def bring(self, config: StackConfig) -> None:
        name = Path(config.source).name if config.source.endswith(".yaml") else "home"
        self.events.append(f"up {name} ({config.airflow.executor})")
        if name in self.fail_bring:
            raise self.fail_bring[name]

    def run_one(self, loaded: LoadedScenario, stack: StackConfig | None) -> FinishedRun:
        name = loaded.scenario.name
        where = "home" if stack is None else Path(stack.source).name
        self.events.append(f"run {name} on {where}")
        outcome = self.codes.get(name, ExitCode.OK)
        if isinstance(outcome, BaseException):
            raise outcome
        run_dir = self.tmp_path / "runs" / f"run-{name}"
        shutil.copytree(FIXTURE, run_dir)
        return FinishedRun(run_dir, outcome)

    def stacks(self) -> SuiteStacks:
        home = load_stack_config(None, env={}, cwd=self.tmp_path)
        return SuiteStacks(
            home=home,
            bring=self.bring,
            read=lambda path: load_stack_config(path, env={}, cwd=self.tmp_path),
        )

    def run(self, suite: LoadedSuite, lines: list[str] | None = None) -> ExitCode:
        done = run_suite(
            suite,
            suite_dir=self.tmp_path / "suite",
            run_one=self.run_one,
            echo=(lines if lines is not None else []).append,
            stacks=self.stacks(),
        )
        return done.exit_code


def test_entries_on_another_stack_switch_once_and_the_suite_ends_on_its_own(
    tmp_path: Path,
) -> None:
    path = write_suite(
        tmp_path,
        entry("a"),
        entry("b1", "stacks/celery.stack.yaml"),
        entry("b2", "stacks/celery.stack.yaml"),
    )
    suite = load_suite(path, env={})
    assert suite.switches == (1, 3)  # before entry 2, and back after the last
    recorder = Recorder(tmp_path, {})
    lines: list[str] = []
    assert recorder.run(suite, lines) == ExitCode.OK
    assert recorder.events == [
        "run a on home",
        "up celery.stack.yaml (celery)",
        "run b1 on celery.stack.yaml",
        "run b2 on celery.stack.yaml",
        "up home (local)",
    ]
    assert any("switching to stack stacks/celery.stack.yaml (celery executor)" in x for x in lines)
    assert any("switching back to the suite's stack built-in defaults" in x for x in lines)


def test_back_and_forth_switches_every_time_the_stack_changes(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        entry("b1", "stacks/celery.stack.yaml"),
        entry("a"),
        entry("c", "stacks/other.stack.yaml"),
        entry("b2", "stacks/celery.stack.yaml"),
    )
    suite = load_suite(path, env={})
    assert suite.switches == (0, 1, 2, 3, 4)
    recorder = Recorder(tmp_path, {})
    assert recorder.run(suite) == ExitCode.OK
    assert [e for e in recorder.events if e.startswith("up")] == [
        "up celery.stack.yaml (celery)",
        "up home (local)",
        "up other.stack.yaml (celery)",
        "up celery.stack.yaml (celery)",
        "up home (local)",
    ]


def test_no_entry_with_a_stack_brings_nothing_up(tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path, entry("a"), entry("b")), env={})
    assert suite.switches == () and suite.stacks == ()
    recorder = Recorder(tmp_path, {})
    assert recorder.run(suite) == ExitCode.OK
    assert recorder.events == ["run a on home", "run b on home"]


def test_an_entry_that_raises_still_has_the_suites_stack_brought_back(tmp_path: Path) -> None:
    path = write_suite(tmp_path, entry("b", "stacks/celery.stack.yaml"), entry("a"))
    recorder = Recorder(tmp_path, {"b": RuntimeError("a bug")})
    with pytest.raises(RuntimeError, match="a bug"):
        recorder.run(load_suite(path, env={}))
    assert recorder.events == [
        "up celery.stack.yaml (celery)",
        "run b on celery.stack.yaml",
        "up home (local)",
    ]


def test_an_interrupted_entry_stops_the_suite_and_the_stack_comes_back(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        entry("a"),
        entry("b", "stacks/celery.stack.yaml"),
        entry("c", "stacks/celery.stack.yaml"),
    )
    recorder = Recorder(tmp_path, {"b": KeyboardInterrupt()})
    assert recorder.run(load_suite(path, env={})) == ExitCode.INTERRUPTED
    assert recorder.events == [
        "run a on home",
        "up celery.stack.yaml (celery)",
        "run b on celery.stack.yaml",
        "up home (local)",
    ]
    summary = orjson.loads((tmp_path / "suite" / "summary.json").read_bytes())
    assert [s["verdict"] for s in summary["scenarios"]] == ["PASS", "ERROR", "SKIPPED"]
    assert summary["stack_error"] is None


def test_a_failed_switch_is_that_entrys_error_and_home_is_tried_again(tmp_path: Path) -> None:
    path = write_suite(tmp_path, entry("b", "stacks/celery.stack.yaml"), entry("a"))
    recorder = Recorder(tmp_path, {})
    recorder.fail_bring["celery.stack.yaml"] = StackNotRunningError("redis did not start")
    lines: list[str] = []
    assert recorder.run(load_suite(path, env={}), lines) == ExitCode.INFRASTRUCTURE
    assert recorder.events == ["up celery.stack.yaml (celery)", "up home (local)"]
    summary = orjson.loads((tmp_path / "suite" / "summary.json").read_bytes())
    first = summary["scenarios"][0]
    assert first["verdict"] == "ERROR" and "redis did not start" in first["error"]
    assert first["stack"] == "stacks/celery.stack.yaml"
    assert summary["scenarios"][1]["verdict"] == "SKIPPED"


def test_a_stack_not_brought_back_fails_the_suite(tmp_path: Path) -> None:
    path = write_suite(tmp_path, entry("b", "stacks/celery.stack.yaml"))
    recorder = Recorder(tmp_path, {})
    recorder.fail_bring["home"] = StackNotRunningError("scheduler unhealthy")
    lines: list[str] = []
    assert recorder.run(load_suite(path, env={}), lines) == ExitCode.INFRASTRUCTURE
    summary = orjson.loads((tmp_path / "suite" / "summary.json").read_bytes())
    assert summary["exit_code"] == 3 and "scheduler unhealthy" in summary["stack_error"]
    assert "stack not brought back" in (tmp_path / "suite" / "summary.md").read_text()
    assert lines[-1].startswith("[t] FAIL (exit 3)")


def test_summary_and_junit_say_which_stack_each_entry_ran_on(tmp_path: Path) -> None:
    path = write_suite(tmp_path, entry("a"), entry("b", "stacks/celery.stack.yaml"))
    Recorder(tmp_path, {}).run(load_suite(path, env={}))
    summary = orjson.loads((tmp_path / "suite" / "summary.json").read_bytes())
    assert [(s["stack"], s["executor"]) for s in summary["scenarios"]] == [
        ("built-in defaults", "local executor"),
        ("stacks/celery.stack.yaml", "celery executor"),
    ]
    markdown = (tmp_path / "suite" / "summary.md").read_text()
    assert "| stacks/celery.stack.yaml (celery executor) |" in markdown
    document = etree.parse(str(tmp_path / "suite" / "junit.xml"))
    SCHEMA.assertValid(document)
    executors = [s.find("properties/property[@name='executor']") for s in document.getroot()]
    assert [e.get("value") for e in executors if e is not None] == [
        "local executor",
        "celery executor",
    ]


def test_a_suite_with_stacks_needs_a_switcher(tmp_path: Path) -> None:
    path = write_suite(tmp_path, entry("b", "stacks/celery.stack.yaml"))
    recorder = Recorder(tmp_path, {})
    with pytest.raises(UsageError, match="nothing can switch stacks"):
        run_suite(
            load_suite(path, env={}),
            suite_dir=tmp_path / "suite",
            run_one=recorder.run_one,
            echo=lambda _: None,
        )
    assert recorder.events == []


def test_an_entry_stack_with_another_state_dir_is_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    path = write_suite(tmp_path, entry("a"), entry("b", "stacks/apart.stack.yaml"))
    (tmp_path / "stacks" / "apart.stack.yaml").write_text("state_dir: elsewhere\n")
    recorder = Recorder(tmp_path, {})
    with pytest.raises(UsageError, match="switching would start a second stack"):
        recorder.run(load_suite(path, env={}))
    assert recorder.events == []


def test_stack_problems_are_reported_with_their_place(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        entry("a", "stacks/nope.stack.yaml"),
        entry("b", "stacks/bad.stack.yaml"),
        entry("c", "smoke.yaml"),
    )
    (tmp_path / "stacks" / "bad.stack.yaml").write_text("airflow:\n  executor: kubernetes\n")
    with pytest.raises(ScenarioInvalid) as caught:
        load_suite(path, env={})
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 3, problems
    assert problems[0].startswith(f"{path}:5:12: stack file stacks/nope.stack.yaml not found")
    assert problems[1].startswith(f"{tmp_path / 'stacks' / 'bad.stack.yaml'}:2:13: ")
    assert "this file is a scenario, not a stack config" in problems[2]


def test_switches_count_against_the_budget(tmp_path: Path) -> None:
    # smoke plans 6m; two of them and two switches: 12m + 2 × SWITCH_ESTIMATE_S.
    body = (entry("a"), entry("b", "stacks/celery.stack.yaml"))
    suite = load_suite(write_suite(tmp_path, *body), env={})
    assert suite.planned_s == 720 + 2 * SWITCH_ESTIMATE_S
    path = write_suite(tmp_path, *body, budget="budget: 13m\n")
    with pytest.raises(ScenarioInvalid, match=r"2 stack switch\(es\) × 180 s\), over the budget"):
        load_suite(path, env={})


def test_dry_run_shows_each_switch_and_refuses_a_bad_stack_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DAGSTORM_STACK_FILE", raising=False)
    monkeypatch.delenv("DAGSTORM_STATE_DIR", raising=False)
    path = write_suite(
        tmp_path,
        entry("a"),
        entry("b", "stacks/celery.stack.yaml"),
        entry("c", "stacks/celery.stack.yaml"),
    )
    runner = CliRunner()
    plan = runner.invoke(cli, ["nightly", str(path), "--dry-run"])
    assert plan.exit_code == 0, plan.output
    lines = plan.output.splitlines()
    assert "planned 24m wall (with 2 stack switch(es) × ~3m)" in lines[0]
    assert lines[2] == (
        "  -> switch to stack stacks/celery.stack.yaml (celery executor) at +6m: ~3m planned"
    )
    assert (
        lines[3].startswith("  2. b (")
        and " on stacks/celery.stack.yaml (celery executor) at +9m" in lines[3]
    )
    assert lines[4].startswith("  3. c (") and "at +15m" in lines[4]
    assert lines[5].startswith("  -> switch back to the suite's stack built-in defaults")
    assert "at +21m" in lines[5] and len(lines) == 6
    (tmp_path / "stacks" / "celery.stack.yaml").write_text("airflow: {executor: nope}\n")
    bad = runner.invoke(cli, ["nightly", str(path), "--dry-run"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert f"{tmp_path / 'stacks' / 'celery.stack.yaml'}:1:" in bad.output
    checked = runner.invoke(cli, ["validate", str(path)])
    assert checked.exit_code == 2 and "celery.stack.yaml:1:" in checked.output


def test_the_shipped_suite_runs_celery_worker_loss_on_the_celery_stack() -> None:
    suite = load_suite(NIGHTLY, env={})
    index = next(
        i for i, s in enumerate(suite.scenarios) if s.path.name == "celery-worker-loss.yaml"
    )
    stack = suite.stack_of(index)
    assert stack is not None and stack.path == (ROOT / "celery.stack.yaml").resolve()
    assert stack.config.airflow.executor == "celery" and stack.config.celery.worker_hosts
    assert suite.switches == (index, index + 1) == (len(suite) - 1, len(suite))
    assert suite.budget_s is not None and suite.planned_s <= suite.budget_s
