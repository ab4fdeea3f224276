"""The run's own events: start and end, phases, faults, control commands, notes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from dagstorm.run.events.base import EventFields, Kind, LogLevel, Number, RunStatus

#: How the reason of a run aborted by a live SLO check begins (then the SLOs' names).
LIVE_SLO_ABORT = "SLO failed live: "


class RunStart(EventFields):
    """The run began: the scenario, its plan and the environment."""

    KIND = Kind.RUN_START
    scenario: str = Field(description="the scenario's name")
    description: str | None = Field(None, description="the scenario's description")
    seed: int = Field(description="the seed every generator derives from")
    time_compression: Number = Field(description="simulated seconds per wall second")
    duration_s: Number = Field(description="planned wall duration")
    stack_kind: str = Field(description="`embedded`, `compose` or `external`")
    dagstorm_version: str = Field(description="the version that ran")
    phases: list[dict[str, Any]] = Field(description="`{name, start_s, end_s}` (wall) per phase")
    faults: list[dict[str, Any]] | None = Field(
        None, description="`{key, fault, start_s, end_s}` per scheduled fault"
    )
    slos: list[dict[str, Any]] = Field(description="the SLO specs")
    environment: dict[str, Any] = Field(
        description="versions of the stack's parts, machine, the Airflow `executor` (embedded)"
    )
    control: bool | None = Field(None, description="true: the engine reads the control inbox")
    fault_targets: dict[str, list[str]] | None = Field(
        None, description="`{links, components}` the stack declares"
    )


class RunEnd(EventFields):
    """The run ended (absent when dagstorm was killed: readers say `unfinished`)."""

    KIND = Kind.RUN_END
    status: RunStatus = Field(
        description="`completed`; `aborted` (an SLO with `abort: true` failed); `interrupted`"
        " (Ctrl-C / SIGTERM, or an `abort` command); `error`"
    )
    reason: str | None = Field(
        None, description="why, when not completed (`aborted by <who>`, the error, …)"
    )
    fault_errors: list[str] | None = Field(
        None, description="faults that could not be applied or reverted"
    )
    observed_until: float | None = Field(
        None,
        description="`t` when the probes began their last samples: the end of what the run"
        " measured (a try that started in Airflow after it was not seen); measures end here",
    )


class Control(EventFields):
    """A control command taken from the inbox (docs/control.md)."""

    KIND = Kind.CONTROL
    command_id: str = Field(description="the command file's id")
    command: str | None = Field(description="`pause`, `resume`, `abort`, `inject`, `revert`")
    by: str | None = Field(description="who sent it")
    fault: str | None = Field(None, description="inject: the fault's description")
    spec: dict[str, Any] | None = Field(None, description="inject: the fault spec")
    duration_s: Number | None = Field(None, description="inject: how long to hold it")
    fault_id: str | None = Field(None, description="revert: the fault")


class ControlAck(EventFields):
    """A control command's outcome."""

    KIND = Kind.CONTROL_ACK
    command_id: str = Field(description="the command file's id")
    command: str | None = Field(description="the command")
    outcome: Literal["done", "rejected", "failed"] = Field(
        description="`done`, `rejected`, `failed`"
    )
    reason: str | None = Field(None, description="why it was rejected or failed")
    fault_id: str | None = Field(None, description="the fault injected or reverted")
    workloads: list[str] | None = Field(None, description="pause/resume: the workloads that pause")
    not_pausable: list[str] | None = Field(
        None, description="pause/resume: workloads whose loop does not pause"
    )


class PhaseStart(EventFields):
    """A phase of the scenario began."""

    KIND = Kind.PHASE_START
    phase: str = Field(description="the phase's name")


class PhaseEnd(EventFields):
    """A phase ended (the `drain` phase reports the runs still unfinished)."""

    KIND = Kind.PHASE_END
    phase: str = Field(description="the phase's name")
    unfinished_runs: int | None = Field(
        None, description="drain: DAG runs still unfinished at its end"
    )


class FaultIntent(EventFields):
    """A fault is about to be injected (journaled before anything is touched)."""

    KIND = Kind.FAULT_INTENT
    fault_id: str = Field(description="`f1`, `f2`, …; ad-hoc faults `adhoc1`, …")
    fault: str = Field(description="the fault's description")
    spec: dict[str, Any] = Field(description="the fault spec")
    adhoc: bool | None = Field(None, description="true for a fault injected by a control command")
    by: str | None = Field(None, description="ad-hoc: who asked")
    duration_s: Number | None = Field(None, description="ad-hoc: how long it is held")


class FaultApplied(EventFields):
    """The fault is in effect and verified."""

    KIND = Kind.FAULT_APPLIED
    fault_id: str = Field(description="the fault")
    fault: str = Field(description="its description")
    evidence: str = Field(description="what verify saw")
    took_s: Number = Field(description="inject + verify, wall seconds")
    journal_id: str | None = Field(
        None, description="its id in the stack's fault journal (for `recover`)"
    )
    adhoc: bool | None = Field(None, description="true for a fault injected by a control command")
    by: str | None = Field(None, description="ad-hoc: who asked")
    duration_s: Number | None = Field(None, description="ad-hoc: how long it is held")


class FaultErrorEvent(EventFields):
    """A fault could not be applied or reverted."""

    KIND = Kind.FAULT_ERROR
    fault_id: str = Field(description="the fault")
    fault: str = Field(description="its description")
    error: str = Field(description="what went wrong")


class FaultReverted(EventFields):
    """The fault was reverted."""

    KIND = Kind.FAULT_REVERTED
    fault_id: str = Field(description="the fault")
    fault: str = Field(description="its description")
    took_s: Number = Field(description="wall seconds the revert took")
    by: str | None = Field(None, description="a `revert` command: who asked")


class Log(EventFields):
    """A note from the engine."""

    KIND = Kind.LOG
    level: LogLevel = Field(description="`info`, `warning`, `error`")
    message: str = Field(description="the note")
