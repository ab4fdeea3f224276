"""dagstorm as a library: run a scenario, analyse a run, write its report.

    from dagstorm.harness import run_scenario
    run = run_scenario("scenarios/smoke.yaml", runs_dir=Path("runs"))
    print(run.exit_code, run.report)

The `dagstorm` command wraps these functions (docs/library.md). The names are
imported on first use: ``import dagstorm.harness`` (and the pytest plugin, which
pytest loads in every session) costs nothing until a run is asked for.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dagstorm.harness.capacity import CapacitySearchRun, run_capacity_search
    from dagstorm.harness.flow import (
        FinishedRun,
        RunReport,
        analyse,
        analyse_and_report,
        record_history,
        report,
        run_scenario,
    )
    from dagstorm.harness.options import Echo, EngineParts, RunOptions
    from dagstorm.harness.stack_choice import stack_config_for
    from dagstorm.harness.suite import SuiteRun, run_suite

#: Public name → the module that defines it.
_WHERE = {
    "CapacitySearchRun": "capacity",
    "run_capacity_search": "capacity",
    "FinishedRun": "flow",
    "RunReport": "flow",
    "analyse": "flow",
    "analyse_and_report": "flow",
    "record_history": "flow",
    "report": "flow",
    "run_scenario": "flow",
    "Echo": "options",
    "EngineParts": "options",
    "RunOptions": "options",
    "stack_config_for": "stack_choice",
    "SuiteRun": "suite",
    "run_suite": "suite",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)


__all__ = [
    "CapacitySearchRun",
    "Echo",
    "EngineParts",
    "FinishedRun",
    "RunOptions",
    "RunReport",
    "SuiteRun",
    "analyse",
    "analyse_and_report",
    "record_history",
    "report",
    "run_capacity_search",
    "run_scenario",
    "run_suite",
    "stack_config_for",
]
