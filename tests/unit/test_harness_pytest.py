"""The pytest plugin: a user's suite with `dagstorm_run`, run by pytest (pytester).

The user's test file is the pytest example of docs/library.md, as written. It runs
in a pytest subprocess with only our plugin loaded (no entry points: the one of an
installed dagstorm, or Locust's, which would patch the process with gevent), on a
fake engine (a conftest overrides `dagstorm_engine`) and a stack that answers
nothing. The same file passes on a calm scenario and fails on a strict one.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from dagstorm.analysis.outputs.history import read_history
from dagstorm.stack.embedded.ports import free_port

pytest_plugins = ["pytester"]

ROOT = Path(__file__).parents[2]
PLUGIN = "dagstorm.harness.pytest_plugin"

CALM = "name: smoke\nduration: 2m\ntime_compression: 60\ndrain: 0\n"
STRICT = CALM + 'slos:\n  - sla: {dag: ad_logs_hourly, within: 1h, compliance: ">= 95%"}\n'

CONFTEST = """\
import pytest

from dagstorm.harness import EngineParts
from dagstorm.run.clock import FakeClock


@pytest.fixture
def dagstorm_engine():
    return EngineParts(
        clock=FakeClock(60.0),
        workload_factory=lambda ctx: [],
        probe_factory=lambda ctx: [],
        reach=lambda stack, part: "answers",  # the stack answers nothing
    )
"""


def pytest_example() -> tuple[str, str]:
    """The test file's name (its first-line comment) and text, from docs/library.md."""
    page = (ROOT / "docs" / "library.md").read_text()
    section = page.split("## From pytest", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None, "docs/library.md has no pytest example"
    text = block.group(1)
    name = re.match(r"# (tests/\S+\.py)\n", text)
    assert name is not None, "the example's first line names its file"
    return name.group(1), text


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A user's project: the example test, scenarios/, a stack file, the fake engine."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("DAGSTORM_AIRFLOW_USERNAME", "unit-user")
    monkeypatch.setenv("DAGSTORM_AIRFLOW_PASSWORD", "unit-secret-pw")
    monkeypatch.setenv("DAGSTORM_SERVING_DB_DSN", "postgresql://u:dsn-secret@127.0.0.1:1/x")
    monkeypatch.delenv("DAGSTORM_STACK_FILE", raising=False)
    monkeypatch.delenv("DAGSTORM_HISTORY", raising=False)
    name, text = pytest_example()
    root = pytester.path
    (root / "tests").mkdir()
    (root / name).write_text(text)
    (root / "tests" / "conftest.py").write_text(CONFTEST)
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    (root / "scenarios").mkdir()
    (root / "fake.stack.yaml").write_text(
        f"kind: external\nstate_dir: {root / 'state'}\nports: {{alert_sink: {free_port()}}}\n"
        "external:\n  airflow_url: http://127.0.0.1:1\n"
        "  spark_master_url: spark://127.0.0.1:1\n  kafka_bootstrap: 127.0.0.1:1\n"
        "  toxiproxy_url: http://127.0.0.1:1\n"
    )
    return pytester


def run_suite(project: pytest.Pytester, scenario: str) -> pytest.RunResult:
    (project.path / "scenarios" / "smoke.yaml").write_text(scenario)
    return project.runpytest_subprocess(
        "-p",
        PLUGIN,
        "-p",
        "no:cacheprovider",
        "--dagstorm-stack",
        "fake.stack.yaml",
        "--dagstorm-runs-dir",
        "runs",
        "--junitxml",
        "junit.xml",
    )


def test_the_fixture_passes_a_passing_run_and_fails_a_failing_one(project: pytest.Pytester) -> None:
    runs = project.path / "runs"
    passing = run_suite(project, CALM)
    passing.assert_outcomes(passed=1)
    (first,) = runs.glob("*-smoke")
    assert (first / "report.html").is_file() and (first / "result.json").is_file()
    cases = ET.parse(project.path / "junit.xml").getroot().iter("property")
    assert {(p.get("name"), p.get("value")) for p in cases} == {("dagstorm_run_dir", str(first))}

    failing = run_suite(project, STRICT)
    failing.assert_outcomes(failed=1)
    # The verdict is in the failure's captured output.
    failing.stdout.fnmatch_lines(
        [
            "*AssertionError: smoke: run completed after 2m wall*",
            "*dagstorm: * FAIL  sla:ad_logs_hourly  not measured*",
        ]
    )
    entries = read_history(runs / "history.jsonl")
    assert [e.exit_code for e in entries] == [0, 1]


def test_an_invalid_scenario_fails_the_test_and_starts_nothing(project: pytest.Pytester) -> None:
    result = run_suite(project, CALM + "faults:\n  - at: 1m\n    fault: {kind: nope}\n")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ScenarioInvalid*smoke.yaml:*"])
    assert not (project.path / "runs").exists()


def test_the_plugin_adds_its_options_and_changes_nothing_else(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile("def test_plain(tmp_path):\n    assert tmp_path.is_dir()\n")
    result = pytester.runpytest_subprocess("-p", PLUGIN, "-p", "no:cacheprovider", "--help")
    result.stdout.fnmatch_lines(["dagstorm scenario runs*", "*--dagstorm-stack=FILE*"])
    plain = pytester.runpytest_subprocess("-p", PLUGIN, "-p", "no:cacheprovider")
    plain.assert_outcomes(passed=1)
    fixtures = pytester.runpytest_subprocess("-p", PLUGIN, "-p", "no:cacheprovider", "--fixtures")
    fixtures.stdout.fnmatch_lines(["dagstorm_run*", "*Run a dagstorm scenario*"])


def test_the_entry_point_names_this_plugin() -> None:
    """What `pip install` registers (pytest loads it from the next install on)."""
    import importlib
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {"dagstorm": PLUGIN}
    plugin = importlib.import_module(PLUGIN)
    assert callable(plugin.pytest_addoption) and plugin.dagstorm_run is not None
