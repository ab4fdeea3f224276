"""The ``run_start`` event: the plan, the SLOs, the environment and the fault targets.

Everything a reader of the run directory needs before the first sample: the
TUI draws the timeline from it, the analysis judges the SLOs it lists, and the
control inbox's ad-hoc faults are checked against its targets.
"""

from __future__ import annotations

import platform
from typing import Any

import psutil

from dagstorm import __version__
from dagstorm.clients.airflow_config import airflow_executor
from dagstorm.run.events import RunStart
from dagstorm.run.journal import RunJournal
from dagstorm.scenarios.plan import Plan
from dagstorm.stack.embedded.components.airflow import executor_name
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.launcher import EmbeddedStack
from dagstorm.stack.endpoints import Stack


def emit_run_start(
    journal: RunJournal, plan: Plan, stack: Stack, embedded: StackContext | None
) -> None:
    """Journal ``run_start`` for ``plan`` on ``stack`` (the run reads a control inbox)."""
    scenario = plan.scenario
    journal.emit(
        RunStart(
            scenario=scenario.name,
            description=scenario.description,
            seed=scenario.seed,
            time_compression=scenario.time_compression,
            duration_s=scenario.duration,
            stack_kind=stack.kind,
            dagstorm_version=__version__,
            phases=[{"name": n, "start_s": s, "end_s": e} for n, s, e in plan.phases],
            faults=[
                {"key": w.key, "fault": w.spec.describe(), "start_s": w.start, "end_s": w.end}
                for w in plan.windows
            ],
            slos=[slo.model_dump(mode="json") for slo in scenario.slos],
            environment=environment(embedded) | external_executor(stack, embedded),
            control=True,
            fault_targets={"links": list(stack.links), "components": list(stack.components)},
        )
    )


def external_executor(stack: Stack, embedded: StackContext | None) -> dict[str, str]:
    """``{"executor": …}`` of a stack dagstorm does not configure (else nothing).

    Read from the REST API's configuration; ``unknown`` where it is not exposed.
    """
    if embedded is not None or stack.airflow_url is None:
        return {}
    if stack.airflow_username is None or stack.airflow_password is None:
        return {"executor": "unknown"}
    name = airflow_executor(stack.airflow_url, stack.airflow_username, stack.airflow_password)
    return {"executor": name}


def environment(embedded: StackContext | None) -> dict[str, Any]:
    """The machine, and the embedded stack's executor and component versions (if one)."""
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": psutil.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
    }
    if embedded is not None:
        # The analysis groups its task split per executor (docs/measures.md).
        env["executor"] = executor_name(embedded)
        for row in EmbeddedStack(embedded).status():
            env[f"version.{row.name}"] = row.version
    return env
