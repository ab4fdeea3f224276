"""The library (dagstorm.harness): run → analyse → report with the engine faked.

The runs are real Runner runs on a fake clock, with no workloads and no probes,
against an external stack whose endpoints answer nothing; the analysis, the
outputs and the verdict are the real ones.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from dagstorm.analysis.outputs.history import read_history
from dagstorm.core.errors import ExitCode
from dagstorm.core.progress import Progress
from dagstorm.engine.runner import Runner
from dagstorm.harness import (
    EngineParts,
    RunOptions,
    analyse,
    report,
    run_scenario,
    stack_config_for,
)
from dagstorm.harness import flow as flow_mod
from dagstorm.run.clock import FakeClock
from dagstorm.scenarios.loader import ScenarioInvalid, load_scenario
from dagstorm.stack.config import StackConfig
from dagstorm.stack.embedded.ports import free_port

ROOT = Path(__file__).parents[2]

CALM = "name: calm\nduration: 2m\ntime_compression: 60\ndrain: 0\n"
STRICT = (
    "name: strict\nduration: 2m\ntime_compression: 60\ndrain: 0\n"
    'slos:\n  - sla: {dag: ad_logs_hourly, within: 1h, compliance: ">= 95%"}\n'
)


def stack_yaml(state_dir: Path) -> str:
    """An external stack whose endpoints answer nothing (no run here talks to them)."""
    return (
        f"kind: external\nstate_dir: {state_dir}\nports: {{alert_sink: {free_port()}}}\n"
        "external:\n  airflow_url: http://127.0.0.1:1\n"
        "  spark_master_url: spark://127.0.0.1:1\n  kafka_bootstrap: 127.0.0.1:1\n"
        "  toxiproxy_url: http://127.0.0.1:1\n"
    )


def fake_engine() -> EngineParts:
    return EngineParts(
        clock=FakeClock(60.0),
        workload_factory=lambda ctx: [],
        probe_factory=lambda ctx: [],
        reach=lambda stack, part: "answers",  # its endpoints answer nothing
    )


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path with calm.yaml, strict.yaml and fake.stack.yaml; credentials in the env."""
    # Distinct values: the journal redacts them wherever they appear.
    monkeypatch.setenv("DAGSTORM_AIRFLOW_USERNAME", "unit-user")
    monkeypatch.setenv("DAGSTORM_AIRFLOW_PASSWORD", "unit-secret-pw")
    monkeypatch.setenv("DAGSTORM_SERVING_DB_DSN", "postgresql://u:dsn-secret@127.0.0.1:1/x")
    monkeypatch.delenv("DAGSTORM_STACK_FILE", raising=False)
    monkeypatch.delenv("DAGSTORM_STATE_DIR", raising=False)
    (tmp_path / "calm.yaml").write_text(CALM)
    (tmp_path / "strict.yaml").write_text(STRICT)
    (tmp_path / "fake.stack.yaml").write_text(stack_yaml(tmp_path / "state"))
    return tmp_path


def test_a_run_writes_every_output_and_prints_nothing(
    setup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    said: list[str] = []
    history = setup / "runs" / "history.jsonl"
    run = run_scenario(
        setup / "calm.yaml",
        stack=setup / "fake.stack.yaml",
        runs_dir=setup / "runs",
        options=RunOptions(history=history),
        echo=said.append,
        engine=fake_engine(),
    )
    assert run.passed and run.exit_code == ExitCode.OK and run.status == "completed"
    assert run.run_dir.parent == setup / "runs"
    for name in ("result.json", "junit.xml", "report.html"):
        assert (run.run_dir / name).is_file(), name
    assert run.report == run.run_dir / "report.html"
    verdict = orjson.loads((run.run_dir / "result.json").read_bytes())["verdict"]
    assert (verdict["passed"], verdict["exit_code"]) == (True, 0)
    (entry,) = read_history(history)
    assert entry.exit_code == 0 and entry.scenario == "calm"
    assert "no SLOs declared; run completed; no findings — PASS (exit 0)" in run.summary
    # The scenario's warning, then the start and the end of the run, through echo only.
    assert "warning: slos: no SLOs" in said[0]
    assert said[1] == "running calm for 120 s wall (compression 60)"
    assert said[2] == f"run directory {run.run_dir}"
    assert capsys.readouterr() == ("", "")


def test_a_failed_slo_is_the_verdict(setup: Path) -> None:
    run = run_scenario(
        setup / "strict.yaml",
        stack=setup / "fake.stack.yaml",
        runs_dir=setup / "runs",
        engine=fake_engine(),
    )
    assert not run.passed and run.exit_code == ExitCode.SLO_FAILED
    assert any(re.match(r"\s+FAIL\s+sla:ad_logs_hourly\s+not measured", s) for s in run.summary)
    assert not (setup / "runs" / "history.jsonl").exists()  # no history asked for
    assert "strict" in repr(run) and "exit_code=<ExitCode.SLO_FAILED: 1>" in repr(run)


def test_an_invalid_scenario_is_refused_before_anything_starts(setup: Path) -> None:
    (setup / "bad.yaml").write_text(CALM + "faults:\n  - at: 1m\n    fault: {kind: nope}\n")
    with pytest.raises(ScenarioInvalid):
        run_scenario(
            setup / "bad.yaml",
            stack=setup / "fake.stack.yaml",
            runs_dir=setup / "runs",
            engine=fake_engine(),
        )
    assert not (setup / "runs").exists()


def test_the_stack_is_the_callers_else_the_scenarios_file(setup: Path) -> None:
    (setup / "other.stack.yaml").write_text(stack_yaml(setup / "other-state"))
    named = setup / "named.yaml"
    named.write_text(CALM + f"stack: {{file: {setup / 'other.stack.yaml'}}}\n")
    scenario = load_scenario(named, env={})
    assert stack_config_for(scenario.scenario.stack).state_dir == setup / "other-state"
    mine = stack_config_for(scenario.scenario.stack, setup / "fake.stack.yaml")
    assert mine.state_dir == setup / "state"
    given = StackConfig.model_validate({"kind": "embedded", "state_dir": str(setup / "s")})
    assert stack_config_for(scenario.scenario.stack, given) is given
    kind = setup / "kind.yaml"
    kind.write_text(CALM + "stack: {kind: compose}\n")
    chosen = load_scenario(kind, env={}).scenario.stack
    assert stack_config_for(chosen, given).kind == "compose"  # the scenario's kind applies


def test_analyse_and_report_on_an_existing_run(setup: Path) -> None:
    run = run_scenario(
        setup / "strict.yaml",
        stack=setup / "fake.stack.yaml",
        runs_dir=setup / "runs",
        engine=fake_engine(),
    )
    for name in ("result.json", "junit.xml", "report.html"):
        (run.run_dir / name).unlink()
    result = analyse(run.run_dir, write=False)
    assert result.exit_code == ExitCode.SLO_FAILED
    assert not (run.run_dir / "result.json").exists()
    analyse(run.run_dir)
    assert (run.run_dir / "result.json").is_file() and (run.run_dir / "junit.xml").is_file()
    elsewhere = report(run.run_dir, output=setup / "page.html")
    assert elsewhere == setup / "page.html" and "FAIL (exit 1)" in elsewhere.read_text()
    assert not (run.run_dir / "report.html").exists()
    assert report(run.run_dir) == run.run_dir / "report.html"


def test_the_plugin_imports_nothing_heavy_and_the_library_not_the_cli() -> None:
    # click itself may come in through httpx; the contract `library-without-click`
    # (lint-imports) keeps dagstorm's own imports of it out of the library.
    code = (
        "import sys\n"
        "import dagstorm.harness.pytest_plugin, dagstorm.harness\n"
        "light = not any(m.startswith(('dagstorm.analysis', 'dagstorm.engine', 'pandas'))"
        " for m in sys.modules)\n"
        "import dagstorm.harness.flow, dagstorm.harness.suite\n"
        "print(light, 'dagstorm.cli' in sys.modules, 'textual' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.split() == ["True", "False", "False"], done.stderr


def python_blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page, re.S)


def test_the_python_example_of_docs_library_md_runs(
    setup: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The page's first Python example, as written, on the fake engine."""

    class FakeEngineRunner(Runner):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            parts = fake_engine()
            kwargs.update(
                clock=parts.clock,
                workload_factory=parts.workload_factory,
                probe_factory=parts.probe_factory,
            )
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(flow_mod, "Runner", FakeEngineRunner)
    (setup / "scenarios").mkdir()
    (setup / "scenarios" / "smoke.yaml").write_text(CALM)
    (setup / "dagstorm.stack.yaml").write_text(stack_yaml(setup / "state"))
    monkeypatch.chdir(setup)
    example = python_blocks((ROOT / "docs" / "library.md").read_text())[0]
    exec(compile(example, "docs/library.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "no SLOs declared; run completed; no findings — PASS (exit 0)" in printed
    (run_dir,) = (setup / "runs").glob("*-calm")
    assert (run_dir / "report.html").is_file()
    assert len(read_history(setup / "runs" / "history.jsonl")) == 1


@pytest.mark.parametrize("block", [None, 64])
def test_a_run_shows_its_analysis_on_its_progress_only_for_a_long_journal(
    setup: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    block: int | None,
) -> None:
    import dagstorm.analysis.rundata.journal_scan as scan

    if block is not None:  # blocks so small that this run's journal is a long one
        monkeypatch.setattr(scan, "READ_BYTES", block)
    run_scenario(
        setup / "calm.yaml",
        stack=setup / "fake.stack.yaml",
        runs_dir=setup / "runs",
        progress=Progress(),
        engine=fake_engine(),
    )
    err = capsys.readouterr().err
    assert ("read the journal" in err) == (block is not None), err
    assert ("measures" in err) == (block is not None), err
