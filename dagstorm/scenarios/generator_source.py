"""A scenario's ``ad_logs`` workload as generator settings (for ``dagstorm generate``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dagstorm.core.errors import ScenarioError
from dagstorm.scenarios.loader import load_scenario


def source_from_scenario(path: Path, workload: str | None) -> dict[str, Any]:
    """The generator fields of a scenario's ``ad_logs`` workload (seed from the scenario)."""
    scenario = load_scenario(path).scenario
    specs = [w for w in scenario.workloads if w.kind == "ad_logs"]
    if workload is not None:
        specs = [w for w in specs if w.name == workload]
    if len(specs) != 1:
        names = [w.name for w in scenario.workloads if w.kind == "ad_logs"]
        raise ScenarioError(
            f"expected one ad_logs workload{f' named {workload}' if workload else ''}, "
            f"found {names or 'none'}",
            where=str(path),
            fix="pass --workload NAME" if names else "add an ad_logs workload or use flags",
        )
    spec = specs[0]
    source = spec.model_dump(exclude={"kind", "name", "trigger_dag"}, exclude_unset=True)
    source.update(seed=scenario.seed, time_compression=scenario.time_compression)
    return source
