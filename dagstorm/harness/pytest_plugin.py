"""dagstorm's pytest plugin: the ``dagstorm_run`` fixture for users' own test suites.

    def test_peak(dagstorm_run):
        assert dagstorm_run("peak.yaml").passed

pytest loads this module in every session once dagstorm is installed (entry point
``pytest11``, name ``dagstorm``; ``-p no:dagstorm`` turns it off). It imports
nothing of dagstorm until a test calls the fixture, and adds no hook that
changes collection or the run of other tests. Options:

- ``--dagstorm-stack FILE``: the stack config (default: the scenario's own choice,
  ``$DAGSTORM_STACK_FILE`` or ``./dagstorm.stack.yaml``);
- ``--dagstorm-runs-dir DIR``: where run directories go (default: the test's
  ``tmp_path``/runs); the runs are appended to ``DIR/history.jsonl``.

Guide: docs/library.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from dagstorm.harness.flow import RunReport
    from dagstorm.harness.options import EngineParts, RunOptions
    from dagstorm.scenarios.loader import LoadedScenario
    from dagstorm.stack.config import StackConfig

STACK_OPTION = "--dagstorm-stack"
RUNS_DIR_OPTION = "--dagstorm-runs-dir"


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--dagstorm-stack`` and ``--dagstorm-runs-dir``."""
    group = parser.getgroup("dagstorm", "dagstorm scenario runs (the dagstorm_run fixture)")
    group.addoption(
        STACK_OPTION,
        metavar="FILE",
        default=None,
        help="Stack config for dagstorm_run (default: the scenario's choice, "
        "$DAGSTORM_STACK_FILE or ./dagstorm.stack.yaml).",
    )
    group.addoption(
        RUNS_DIR_OPTION,
        metavar="DIR",
        default=None,
        help="Where dagstorm_run creates run directories (default: each test's tmp_path/runs).",
    )


class DagstormRun:
    """Runs a scenario from a test: ``dagstorm_run("peak.yaml")`` → a ``RunReport``.

    A relative scenario path is looked up next to the test file first, then in
    the rootdir. Each run's progress and verdict go to the test's captured output
    (shown when it fails) and its run directory to the test's junit properties.
    """

    def __init__(
        self,
        request: pytest.FixtureRequest,
        runs_dir: Path,
        stack: Path | None,
        engine: EngineParts | None,
    ) -> None:
        self._request = request
        self.runs_dir = runs_dir
        self.stack = stack
        self._engine = engine
        #: Every run of this test so far, oldest first.
        self.runs: list[RunReport] = []

    def scenario_path(self, scenario: str | Path) -> Path:
        """Where a scenario named by the test is: beside the test file, else in the rootdir."""
        path = Path(scenario)
        if path.is_absolute():
            return path
        for base in (self._request.path.parent, self._request.config.rootpath):
            if (base / path).exists():
                return base / path
        return self._request.config.rootpath / path

    def __call__(
        self,
        scenario: str | Path | LoadedScenario,
        *,
        stack: StackConfig | Path | None = None,
        options: RunOptions | None = None,
    ) -> RunReport:
        """Validate, run, analyse and report ``scenario``; raises on invalid input."""
        from dagstorm.analysis.outputs.history import HISTORY_FILE
        from dagstorm.core.progress import Progress
        from dagstorm.harness.flow import run_scenario
        from dagstorm.harness.options import RunOptions
        from dagstorm.scenarios.loader import LoadedScenario

        target = scenario if isinstance(scenario, LoadedScenario) else self.scenario_path(scenario)
        report = run_scenario(
            target,
            stack=stack if stack is not None else self.stack,
            runs_dir=self.runs_dir,
            options=options or RunOptions(history=self.runs_dir / HISTORY_FILE),
            progress=Progress(),  # made now: it writes to the test's captured stderr
            echo=_say,
            engine=self._engine,
        )
        for line in report.summary:
            _say(line)
        _say(f"report: {report.report}")
        self._request.node.user_properties.append(("dagstorm_run_dir", str(report.run_dir)))
        self.runs.append(report)
        return report


def _say(line: str) -> None:
    """One line to the test's captured stdout."""
    print(f"dagstorm: {line}")


@pytest.fixture
def dagstorm_engine() -> EngineParts | None:
    """The engine's parts for ``dagstorm_run``: None, the real ones.

    Override it (in a conftest.py) to run scenarios with a fake clock and no load,
    e.g. to test the tests themselves.
    """
    return None


@pytest.fixture
def dagstorm_run(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    dagstorm_engine: EngineParts | None,
) -> DagstormRun:
    """Run a dagstorm scenario and get its verdict: ``dagstorm_run("peak.yaml").passed``."""
    runs_dir = request.config.getoption(RUNS_DIR_OPTION)
    stack = request.config.getoption(STACK_OPTION)
    here = request.config.invocation_params.dir  # the options' paths are from where pytest ran
    return DagstormRun(
        request,
        runs_dir=here / runs_dir if runs_dir else tmp_path / "runs",
        stack=here / stack if stack else None,
        engine=dagstorm_engine,
    )


__all__ = ["DagstormRun", "dagstorm_engine", "dagstorm_run", "pytest_addoption"]
