"""The run's own events: start and end, phases, faults, control commands, notes."""

from __future__ import annotations

from typing import Any, Literal

from dagstorm.run.events.base import EventFields, Kind, RunStatus, optional, required


class RunStart(EventFields):
    """The run began: the scenario, its plan and the environment."""

    KIND = Kind.RUN_START
    scenario: str = required("the scenario's name")
    description: str | None = optional("the scenario's description")
    seed: int = required("the seed every generator derives from")
    time_compression: float = required("simulated seconds per wall second")
    duration_s: float = required("planned wall duration")
    stack_kind: str = required("`embedded`, `compose` or `external`")
    dagstorm_version: str = required("the version that ran")
    phases: list[dict[str, Any]] = required("`{name, start_s, end_s}` (wall) per phase")
    faults: list[dict[str, Any]] | None = optional(
        "`{key, fault, start_s, end_s}` per scheduled fault"
    )
    slos: list[dict[str, Any]] = required("the SLO specs")
    environment: dict[str, Any] = required("versions of the stack's parts, machine")
    control: bool | None = optional("true: the engine reads the control inbox")
    fault_targets: dict[str, list[str]] | None = optional(
        "`{links, components}` the stack declares"
    )


class RunEnd(EventFields):
    """The run ended (absent when dagstorm was killed: readers say `unfinished`)."""

    KIND = Kind.RUN_END
    status: RunStatus = required(
        "`completed`; `aborted` (an SLO with `abort: true` failed); `interrupted`"
        " (Ctrl-C / SIGTERM, or an `abort` command); `error`"
    )
    reason: str | None = optional("why, when not completed (`aborted by <who>`, the error, …)")
    fault_errors: list[str] | None = optional("faults that could not be applied or reverted")


class Control(EventFields):
    """A control command taken from the inbox (docs/control.md)."""

    KIND = Kind.CONTROL
    command_id: str = required("the command file's id")
    command: str | None = required("`pause`, `resume`, `abort`, `inject`, `revert`")
    by: str | None = required("who sent it")
    fault: str | None = optional("inject: the fault's description")
    spec: dict[str, Any] | None = optional("inject: the fault spec")
    duration_s: float | None = optional("inject: how long to hold it")
    fault_id: str | None = optional("revert: the fault")


class ControlAck(EventFields):
    """A control command's outcome."""

    KIND = Kind.CONTROL_ACK
    command_id: str = required("the command file's id")
    command: str | None = required("the command")
    outcome: Literal["done", "rejected", "failed"] = required("`done`, `rejected`, `failed`")
    reason: str | None = optional("why it was rejected or failed")
    fault_id: str | None = optional("the fault injected or reverted")
    workloads: list[str] | None = optional("pause/resume: the workloads that pause")
    not_pausable: list[str] | None = optional("pause/resume: workloads whose loop does not pause")


class PhaseStart(EventFields):
    """A phase of the scenario began."""

    KIND = Kind.PHASE_START
    phase: str = required("the phase's name")


class PhaseEnd(EventFields):
    """A phase ended (the `drain` phase reports the runs still unfinished)."""

    KIND = Kind.PHASE_END
    phase: str = required("the phase's name")
    unfinished_runs: int | None = optional("drain: DAG runs still unfinished at its end")


class FaultIntent(EventFields):
    """A fault is about to be injected (journaled before anything is touched)."""

    KIND = Kind.FAULT_INTENT
    fault_id: str = required("`f1`, `f2`, …; ad-hoc faults `adhoc1`, …")
    fault: str = required("the fault's description")
    spec: dict[str, Any] = required("the fault spec")
    adhoc: bool | None = optional("true for a fault injected by a control command")
    by: str | None = optional("ad-hoc: who asked")
    duration_s: float | None = optional("ad-hoc: how long it is held")


class FaultApplied(EventFields):
    """The fault is in effect and verified."""

    KIND = Kind.FAULT_APPLIED
    fault_id: str = required("the fault")
    fault: str = required("its description")
    evidence: str = required("what verify saw")
    took_s: float = required("inject + verify, wall seconds")
    journal_id: str | None = optional("its id in the stack's fault journal (for `recover`)")


class FaultErrorEvent(EventFields):
    """A fault could not be applied or reverted."""

    KIND = Kind.FAULT_ERROR
    fault_id: str = required("the fault")
    fault: str = required("its description")
    error: str = required("what went wrong")


class FaultReverted(EventFields):
    """The fault was reverted."""

    KIND = Kind.FAULT_REVERTED
    fault_id: str = required("the fault")
    fault: str = required("its description")
    took_s: float = required("wall seconds the revert took")
    by: str | None = optional("a `revert` command: who asked")


class Log(EventFields):
    """A note from the engine."""

    KIND = Kind.LOG
    level: Literal["debug", "info", "warning", "error"] = required("`info`, `warning`, `error`")
    message: str = required("the note")
