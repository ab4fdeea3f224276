"""Airflow faults: its processes, and its objects through the REST API."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from dagstorm.core.problems import raise_all
from dagstorm.faults.specs.base import FaultSpecBase
from dagstorm.stack.parts import Part

AirflowComponent = Literal["scheduler", "triggerer", "dag-processor", "api-server"]

#: Actions on Airflow's processes (embedded stack: dagstorm owns the processes).
PROCESS_ACTIONS = ("kill", "pause", "restart", "kill_task")
#: Actions through Airflow's REST API (any stack with Airflow; DAG files: a declared folder).
API_ACTIONS = (
    "squeeze_pool",
    "pause_dag",
    "clear_runs",
    "break_connection",
    "break_dag",
    "deploy_dag",
)
AirflowAction = Literal[
    "kill",
    "pause",
    "restart",
    "kill_task",
    "squeeze_pool",
    "pause_dag",
    "clear_runs",
    "break_connection",
    "break_dag",
    "deploy_dag",
]

# What each action needs (other settings are refused, so a typo never passes silently).
_REQUIRED: dict[str, tuple[str, ...]] = {
    "kill": ("component",),
    "pause": ("component",),
    "restart": ("component",),
    "squeeze_pool": ("pool", "slots"),
    "pause_dag": ("dag_id",),
    "clear_runs": ("dag_id",),
    "break_connection": ("connection_id",),
    "break_dag": ("dag_id",),
    "deploy_dag": ("dag_id", "dag_file"),
}
_ALLOWED: dict[str, tuple[str, ...]] = {
    "kill_task": ("dag_id",),
    "clear_runs": ("dag_id", "runs", "only_failed"),
    "break_connection": ("connection_id", "breaks"),
}
_OPTIONAL = ("component", "dag_id", "pool", "slots", "connection_id", "dag_file", "runs")


class AirflowFault(FaultSpecBase):
    """Airflow: its processes, or its own objects through the REST API.

    Processes: kill, pause, restart a component; kill a running task. Objects:
    pools, DAGs, runs, connections, DAG files.
    """

    kind: Literal["airflow"] = "airflow"
    action: AirflowAction
    component: AirflowComponent | None = None
    dag_id: str | None = Field(
        None,
        description="kill_task: only tasks of this DAG; pause_dag, clear_runs, break_dag,"
        " deploy_dag: the DAG",
    )
    pool: str | None = Field(None, description="squeeze_pool: the pool whose slots are cut")
    slots: int | None = Field(None, ge=0, le=100_000, description="squeeze_pool: slots while held")
    connection_id: str | None = Field(None, description="break_connection: the Connection")
    breaks: Literal["host", "login"] = Field(
        "host",
        description="break_connection: `host` points it at 127.0.0.1:1 (refused), `login`"
        " changes the user name (authentication fails); the password is never read or written",
    )
    dag_file: str | None = Field(
        None,
        description="deploy_dag: the new version's file (a path on this machine, relative to"
        " the working directory); it replaces the DAG's file while the fault is held",
    )
    runs: int = Field(5, ge=1, le=500, description="clear_runs: how many finished runs")
    only_failed: bool = Field(False, description="clear_runs: clear only failed tasks")

    @model_validator(mode="after")
    def _settings_fit_the_action(self) -> AirflowFault:
        required = _REQUIRED.get(self.action, ())
        allowed = set(required) | set(_ALLOWED.get(self.action, ()))
        findings: list[tuple[tuple[str, ...], str]] = [
            ((name,), f"action {self.action} needs `{name}`")
            for name in required
            if getattr(self, name) is None
        ]
        # A setting counts as given when it differs from its default: a spec read back
        # from a journal (every field written out) is the same spec.
        defaults = {"breaks": "host", "only_failed": False, "runs": 5}
        for name in (*_OPTIONAL, "breaks", "only_failed"):
            if name not in allowed and getattr(self, name) != defaults.get(name):
                findings.append(((name,), f"action {self.action} takes no `{name}`"))
        raise_all("AirflowFault", findings)
        return self

    def describe(self) -> str:
        """Short description."""
        match self.action:
            case "kill_task":
                return "airflow task killed" + (f" ({self.dag_id})" if self.dag_id else "")
            case "squeeze_pool":
                return f"airflow pool {self.pool} squeezed to {self.slots} slots"
            case "pause_dag":
                return f"airflow DAG {self.dag_id} paused"
            case "clear_runs":
                return f"airflow {self.runs} finished runs of {self.dag_id} cleared"
            case "break_connection":
                return f"airflow connection {self.connection_id} broken ({self.breaks})"
            case "break_dag":
                return f"airflow DAG {self.dag_id} broken (its file fails to import)"
            case "deploy_dag":
                return f"airflow DAG {self.dag_id} deployed from {self.dag_file}"
            case _:
                return f"airflow {self.component} {self.action}"

    @property
    def through_api(self) -> bool:
        """True for the actions done through the REST API (no process touched)."""
        return self.action in API_ACTIONS

    def needs(self) -> frozenset[Part]:
        """Airflow; its processes for process actions; a DAGs folder for DAG-file actions."""
        if self.action in ("break_dag", "deploy_dag"):
            return frozenset({"airflow", "dag_files"})
        if self.through_api:
            return frozenset({"airflow"})
        return frozenset({"airflow", "processes"})
