"""Suite files, `dagstorm nightly`'s loop (with a fake runner) and the suite's junit.xml."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from lxml import etree

from dagstorm.analysis.outputs.suite_report import ScenarioOutcome, suite_exit_code
from dagstorm.cli import cli
from dagstorm.core.errors import ExitCode, StackNotRunningError
from dagstorm.harness import FinishedRun, run_suite
from dagstorm.harness.suite import RunOne
from dagstorm.scenarios.loader import LoadedScenario, ScenarioInvalid
from dagstorm.scenarios.suite import is_suite_file, load_suite
from dagstorm.stack.config import StackConfig

ROOT = Path(__file__).parents[2]
SCENARIOS = ROOT / "scenarios"
NIGHTLY = SCENARIOS / "nightly.yaml"
FIXTURE = ROOT / "tests" / "fixtures" / "journals" / "broker_outage"
SCHEMA = etree.XMLSchema(etree.parse(str(ROOT / "tests" / "fixtures" / "junit" / "junit.xsd")))


def write_suite(tmp_path: Path, body: str) -> Path:
    for name in ("smoke.yaml", "spark-oom.yaml", "scheduler-storm.yaml"):
        shutil.copy(SCENARIOS / name, tmp_path / name)
    path = tmp_path / "suite.yaml"
    path.write_text(body)
    return path


def test_the_shipped_nightly_suite_is_valid_and_every_listed_file_exists() -> None:
    assert is_suite_file(NIGHTLY)
    suite = load_suite(NIGHTLY, env={})
    listed = [
        line.split("file:", 1)[1].strip()
        for line in NIGHTLY.read_text().splitlines()
        if line.strip().startswith("- file:")
    ]
    assert [s.path.name for s in suite.scenarios] == listed
    assert suite.budget_s is not None and suite.planned_s <= suite.budget_s
    soak = next(s for s in suite.scenarios if s.path.name == "soak.yaml")
    assert soak.scenario.name == "soak-nightly"  # its own trend, apart from full soaks
    assert soak.scenario.duration == 1200.0
    assert not is_suite_file(SCENARIOS / "smoke.yaml")


def test_overrides_merge_over_the_scenario(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        "suite: t\nscenarios:\n  - file: smoke.yaml\n    overrides:\n      seed: 7\n"
        "      probes: {interval: 5s}\n",
    )
    (loaded,) = load_suite(path, env={}).scenarios
    assert loaded.scenario.seed == 7
    assert loaded.scenario.probes.interval == 5.0
    assert loaded.scenario.probes.airflow_dags == ["ad_logs_hourly"]  # merged, not replaced
    assert loaded.scenario.name == "smoke"


def test_every_problem_is_reported_with_its_place(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        "suite: t\n"
        "budget: 1m\n"
        "scenarios:\n"
        "  - file: smoke.yaml\n"
        "    overrides:\n"
        "      duration: 10m\n"  # phases no longer add up
        "  - file: broker-outage.yaml\n"
        "  - file: spark-oom.yaml\n"
        "    overrides: {colour: red}\n",
    )
    with pytest.raises(ScenarioInvalid) as caught:
        load_suite(path, env={})
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 3, problems
    # A whole-scenario problem caused by the overrides points at them.
    assert problems[0].startswith(f"{path}:6:17: ") and "phases add up to 180 s" in problems[0]
    assert problems[1].startswith(f"{path}:7:11: scenario file broker-outage.yaml not found")
    assert problems[2].startswith(f"{path}:9:17: ") and "unknown key `colour`" in problems[2]
    assert caught.value.exit_code == ExitCode.USAGE


def test_over_budget_is_refused(tmp_path: Path) -> None:
    path = write_suite(tmp_path, "suite: t\nbudget: 5m\nscenarios:\n  - file: smoke.yaml\n")
    with pytest.raises(ScenarioInvalid, match="plan 360 s of wall time"):
        load_suite(path, env={})


def test_a_bad_suite_file_is_refused(tmp_path: Path) -> None:
    path = write_suite(tmp_path, "suite: Not Valid\nscenarios: []\nextra: 1\n")
    with pytest.raises(ScenarioInvalid) as caught:
        load_suite(path, env={})
    assert len(caught.value.problems) == 3


def fake_runner(
    tmp_path: Path, codes: Mapping[str, ExitCode | Exception]
) -> tuple[RunOne, list[str]]:
    """Each scenario 'runs' by copying the broker-outage journal; its exit code is given.

    Without ``stacks`` in run_suite every scenario runs on the caller's stack (None).
    """
    calls: list[str] = []

    def run_one(loaded: LoadedScenario, stack: StackConfig | None) -> FinishedRun:
        name = loaded.scenario.name
        calls.append(name)
        assert stack is None
        outcome = codes[name]
        if isinstance(outcome, Exception):
            raise outcome
        run_dir = tmp_path / "runs" / f"run-{name}"
        shutil.copytree(FIXTURE, run_dir)
        return FinishedRun(run_dir, outcome)

    return run_one, calls


def test_suite_runs_in_order_and_exits_with_the_worst(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        "suite: t\nscenarios:\n  - file: smoke.yaml\n  - file: spark-oom.yaml\n"
        "  - file: scheduler-storm.yaml\n",
    )
    codes = {"smoke": ExitCode.OK, "spark-oom": ExitCode.SLO_FAILED, "scheduler-storm": ExitCode.OK}
    run_one, calls = fake_runner(tmp_path, codes)
    lines: list[str] = []
    done = run_suite(
        load_suite(path, env={}), suite_dir=tmp_path / "suite", run_one=run_one, echo=lines.append
    )
    assert calls == ["smoke", "spark-oom", "scheduler-storm"]
    assert done.exit_code == ExitCode.SLO_FAILED
    assert lines[1].startswith("[t 1/3] smoke: start (6m planned)")
    assert lines[4].startswith("[t 2/3] spark-oom: FAIL (exit 1)")
    assert lines[-1].startswith("[t] FAIL (exit 1)")
    assert not any("\x1b[" in line for line in lines)
    summary = orjson.loads((tmp_path / "suite" / "summary.json").read_bytes())
    assert [s["verdict"] for s in summary["scenarios"]] == ["PASS", "FAIL", "PASS"]
    assert summary["exit_code"] == 1
    assert "| spark-oom | FAIL | 1 |" in (tmp_path / "suite" / "summary.md").read_text()


def test_an_infrastructure_error_stops_the_suite(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        "suite: t\nscenarios:\n  - file: smoke.yaml\n  - file: spark-oom.yaml\n"
        "  - file: scheduler-storm.yaml\n",
    )
    down = StackNotRunningError("the embedded stack is not healthy: kafka", fix="stack up")
    run_one, calls = fake_runner(tmp_path, {"smoke": ExitCode.SLO_FAILED, "spark-oom": down})
    lines: list[str] = []
    done = run_suite(
        load_suite(path, env={}), suite_dir=tmp_path / "suite", run_one=run_one, echo=lines.append
    )
    assert calls == ["smoke", "spark-oom"]
    assert done.exit_code == ExitCode.INFRASTRUCTURE
    assert any(
        line.startswith("[t 3/3] scheduler-storm: SKIPPED (the suite stopped") for line in lines
    )
    document = etree.parse(str(tmp_path / "suite" / "junit.xml"))
    SCHEMA.assertValid(document)
    suites = document.getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "broker-outage-fixture",
        "spark-oom",
        "scheduler-storm",
    ]
    error = suites[1].find("testcase/error")
    assert error is not None and "not healthy: kafka" in error.get("message", "")
    assert suites[2].find("testcase/skipped") is not None
    root = document.getroot()
    assert (root.get("tests"), root.get("errors"), root.get("skipped")) == ("7", "1", "1")
    # The SLO test cases carry measured vs target, as the run's own junit.xml does.
    failure = suites[0].find("testcase[@name='sla:ad_logs_hourly']/failure")
    assert failure is not None
    assert failure.get("message") == (
        "measured 66.7% (2 of 3 runs within deadline;"
        " 1 still running at the end, not counted) vs target >= 95%"
    )


def test_exit_code_severity() -> None:
    def o(code: ExitCode, skipped: bool = False) -> ScenarioOutcome:
        return ScenarioOutcome("s", "f", code, skipped=skipped)

    assert suite_exit_code([]) == ExitCode.OK
    assert suite_exit_code([o(ExitCode.OK), o(ExitCode.SLO_FAILED)]) == ExitCode.SLO_FAILED
    assert suite_exit_code([o(ExitCode.SLO_FAILED), o(ExitCode.USAGE)]) == ExitCode.USAGE
    assert suite_exit_code([o(ExitCode.INFRASTRUCTURE), o(ExitCode.INTERRUPTED)]) == (
        ExitCode.INTERRUPTED
    )
    assert suite_exit_code([o(ExitCode.OK), o(ExitCode.SLO_FAILED, skipped=True)]) == ExitCode.OK


def test_run_junit_validates_against_the_schema(tmp_path: Path) -> None:
    from dagstorm.analysis import analyze, write_junit

    run = tmp_path / "run"
    shutil.copytree(FIXTURE, run)
    SCHEMA.assertValid(etree.parse(str(write_junit(run, analyze(run)))))


def test_cli_dry_run_and_missing_file(tmp_path: Path) -> None:
    runner = CliRunner()
    plan = runner.invoke(cli, ["nightly", str(NIGHTLY), "--dry-run"])
    assert plan.exit_code == 0, plan.output
    assert plan.output.startswith("suite nightly (")
    assert "7. soak-nightly" in plan.output
    path = write_suite(tmp_path, "suite: t\nscenarios:\n  - file: nope.yaml\n")
    missing = runner.invoke(cli, ["nightly", str(path), "--dry-run"])
    assert missing.exit_code == 2
    assert f"{path}:3:11: scenario file nope.yaml not found" in missing.output
    assert "Traceback" not in missing.output
    checked = runner.invoke(cli, ["validate", str(NIGHTLY)])
    assert checked.exit_code == 0 and "ok — suite nightly" in checked.output


def test_findings_are_test_cases_the_suite_does_not_repeat(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    from dagstorm.analysis import analyze, write_junit
    from dagstorm.analysis.outputs.suite_report import suite_junit_tree

    run = tmp_path / "run"
    shutil.copytree(ROOT / "tests" / "fixtures" / "journals" / "interrupted_fault", run)
    SCHEMA.assertValid(etree.parse(str(write_junit(run, analyze(run)))))
    # How nightly_flow records an interrupted run: its error is what the verdict says.
    outcome = ScenarioOutcome(
        "airflow-api-down", "x.yaml", ExitCode.INTERRUPTED, run, "interrupted"
    )
    root = suite_junit_tree("t", [outcome]).getroot()
    SCHEMA.assertValid(etree.fromstring(ET.tostring(root)))
    assert [c.get("name") for c in root.iter("testcase")] == ["run", "fault api-down"]
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "1", "1")
